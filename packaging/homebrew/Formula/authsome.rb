# Homebrew formula for authsome. Checked in CI with `ruby -c` only: no macOS runs here.
#
# Python dependencies follow Homebrew's virtualenv convention: one `resource` per package,
# installed by virtualenv_install_with_resources. Generate those stanzas at release time with
#   brew update-python-resources packaging/homebrew/Formula/authsome.rb
# (Homebrew's own tool writes each package's archive address and checksum).
class Authsome < Formula
  include Language::Python::Virtualenv

  desc "Credential manager for people and AI agents who work in shells"
  homepage "https://authsome.ai"
  url "https://authsome.ai/releases/authsome-0.1.0.tar.gz"
  version "0.1.0"
  # sha256 of the release sdist, filled in by `brew bump-formula-pr` when 0.1.0 is published.
  license "MIT"

  depends_on "cryptography"
  depends_on "python@3.12"

  def install
    virtualenv_install_with_resources
    bash_completion.install "completions/authsome.bash" => "authsome"
    zsh_completion.install "completions/_authsome"
    fish_completion.install "completions/authsome.fish"
    (pkgshare/"shell").install Dir["shell/*"]
    man1.install "packaging/man/authsome.1"
  end

  def caveats
    <<~EOS
      Shell set-up (see the README):
        bash: eval "$(authsome hook bash)" in ~/.bashrc
        zsh:  eval "$(authsome hook zsh)" in ~/.zshrc
        fish: authsome hook fish | source   in config.fish
    EOS
  end

  test do
    assert_match "authsome #{version}", shell_output("#{bin}/authsome --version")
    assert_match "github", shell_output("#{bin}/authsome providers")
  end
end
