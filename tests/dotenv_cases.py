"""The dotenv grammar table: inputs whose meaning authsome's parser and python-dotenv agree on,
and inputs python-dotenv cannot parse (it warns and skips them; authsome stops, naming the line).
Shared by tests/test_envfiles.py and the docs' examples (docs/env-files.md)."""

# (dotenv text, what it sets): checked against python-dotenv too.
AGREED = [
    ("", {}),
    ("A=1", {"A": "1"}),
    ("A=1\nB=2\n", {"A": "1", "B": "2"}),
    ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
    ("A=1\rB=2", {"A": "1", "B": "2"}),
    ("\n\n  A=1\n\n", {"A": "1"}),
    ("# a comment\nA=1", {"A": "1"}),
    ("   # indented comment\nA=1", {"A": "1"}),
    ("export A=1", {"A": "1"}),
    ("export   A=1", {"A": "1"}),
    ("exportA=1", {"exportA": "1"}),
    ("export=1", {"export": "1"}),
    ("A = 1", {"A": "1"}),
    ("A=  1  ", {"A": "1"}),
    ("A=", {"A": ""}),
    ("A=\nB=2", {"A": "", "B": "2"}),
    ("A= # just a comment", {"A": ""}),
    ("A=#not a comment", {"A": "#not a comment"}),
    ("A=b#c", {"A": "b#c"}),
    ("A=b #c", {"A": "b"}),
    ("A=b\t#c", {"A": "b"}),
    ("A=a b c", {"A": "a b c"}),
    ("A=a=b", {"A": "a=b"}),
    ("A='single'", {"A": "single"}),
    ("A='it\\'s'", {"A": "it's"}),
    ("A='back\\\\slash'", {"A": "back\\slash"}),
    ("A='no \\n escape'", {"A": "no \\n escape"}),
    ("A='$HOME ${HOME}'", {"A": "$HOME ${HOME}"}),
    ("A='a # b'", {"A": "a # b"}),
    ("A='a' # comment", {"A": "a"}),
    ("A='a'# comment", {"A": "a"}),
    ("A='multi\nline'", {"A": "multi\nline"}),
    ('A="double"', {"A": "double"}),
    ('A="tab\\there"', {"A": "tab\there"}),
    ('A="new\\nline"', {"A": "new\nline"}),
    ('A="quote \\" inside"', {"A": 'quote " inside'}),
    ('A="single \\\' inside"', {"A": "single ' inside"}),
    ('A="back\\\\slash"', {"A": "back\\slash"}),
    ('A="\\a\\b\\f\\r\\v"', {"A": "\a\b\f\r\v"}),
    ('A="keeps \\x and \\u00e9"', {"A": "keeps \\x and \\u00e9"}),
    ('A="multi\nline\nvalue"\nB=2', {"A": "multi\nline\nvalue", "B": "2"}),
    ('A="-----BEGIN KEY-----\nabc\n-----END"', {"A": "-----BEGIN KEY-----\nabc\n-----END"}),
    ('A="a # b"', {"A": "a # b"}),
    ('A="x" # comment', {"A": "x"}),
    ('A=""', {"A": ""}),
    ("A=''", {"A": ""}),
    ('A=say "hi"', {"A": 'say "hi"'}),
    ("A=it's", {"A": "it's"}),
    ("'A'=1", {"A": "1"}),
    ("'A B'=1", {"A B": "1"}),
    ("A.B-C=1", {"A.B-C": "1"}),
    ("A=1\nA=2", {"A": "2"}),
    ("A=é ✓ 日本", {"A": "é ✓ 日本"}),
    ("A=authsome://openai/api_key", {"A": "authsome://openai/api_key"}),
    ('A="authsome://github:work/access_token"', {"A": "authsome://github:work/access_token"}),
    ("A=${B}", {"A": "${B}"}),  # python-dotenv with interpolate=False; authsome never expands
    ("A", {}),  # no '=': python-dotenv gives None, which load_dotenv skips
    ("export A", {}),
    ("A=1\nB\nC=3", {"A": "1", "C": "3"}),
    ("\ufeffA=1", {"A": "1"}),  # a UTF-8 byte order mark is skipped
]

# (dotenv text, what authsome sets, what python-dotenv's load_dotenv sets): the deliberate
# differences, each listed in docs/env-files.md.
DIFFERENCES = [
    # A KEY without '=' after KEY=VALUE: python-dotenv's None hides the value; authsome ignores
    # the line (as a shell would, `A=1; export A`).
    ("A=1\nexport A\n", {"A": "1"}, {}),
]

# (dotenv text, the line authsome names): python-dotenv warns and skips these.
ERRORS = [
    ("A=1\nB='never closed\nC=3", 2),
    ('A=1\n\nB="never closed', 3),
    ("A='x'y", 1),
    ('A="x"y', 1),
    ("=1", 1),
    ("A=1\n  =2", 2),
    ("A B=1", 1),
    ("'A=1", 1),
    ("A=1\nexport \nB=2", 2),
]
