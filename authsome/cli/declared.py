"""click parameters built from the declarations in cli/options.py."""

import click


def parameters(spec: dict, shell_complete):
    """A decorator adding `spec`'s argument and options to a click command, in --help order."""
    decorators = []
    if spec["argument"]:
        keyword, nargs = spec["argument"]
        decorators.append(click.argument(keyword, nargs=nargs, shell_complete=shell_complete))
    for opt in spec["options"]:
        settings = dict(opt["shown"])
        if opt["flag"]:
            settings["is_flag"] = True
        elif opt["choices"]:
            settings["type"] = click.Choice(opt["choices"])
        elif opt["span"]:
            settings["type"] = click.IntRange(*opt["span"])
        if opt.get("many"):
            settings["multiple"] = True
        if opt["default"] not in (None, False):
            settings["default"] = opt["default"]
        decorators.append(click.option(*opt["names"], opt["dest"], **settings))

    def decorate(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return decorate
