import click


@click.command()
@click.option(
    "-i",
    "--in-file",
    "source",
    required=True,
    type=click.Path(allow_dash=True),
    help="The template ('-': stdin).",
)
@click.option(
    "-o",
    "--out-file",
    "out",
    type=click.Path(),
    help="Write here, mode 0600 (default: stdout).",
)
@click.option("--force", is_flag=True, help="Replace an output file that others can read.")
@click.pass_obj
def inject(ctx, source, out, force):
    """Fill in a template's authsome:// fields.

    Each field is {{ authsome://PROVIDER[:CONNECTION]/FIELD }}, blanks inside the braces allowed.

    \b
    Examples:
      authsome inject -i config.yaml.tpl -o config.yaml
      authsome inject -i settings.tpl > /dev/null   # check that every field resolves
    """
    from authsome.services.inject import inject as render

    text = render(ctx, source, out, force)
    if text is not None:
        ctx.io.stdout.write(text)
        ctx.io.stdout.flush()
