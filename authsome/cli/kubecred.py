import click

from authsome.cli.complete import connected_refs


@click.command("kube-credential")
@click.argument("ref", metavar="NAME[:C]", shell_complete=connected_refs)
@click.pass_obj
def kube_credential(ctx, ref):
    """Print an ExecCredential for kubectl (a client-go exec credential plugin)."""
    from authsome.services.kubecred import exec_credential

    ctx.io.emit(exec_credential(ctx, ref))


@click.command("setup-kube")
@click.argument("ref", metavar="NAME[:C]", shell_complete=connected_refs)
@click.option("--cluster", required=True, help="The kubeconfig cluster to use it for.")
@click.option("--user", help="The kubeconfig user to write (default: authsome-NAME).")
@click.pass_obj
def setup_kube(ctx, ref, cluster, user):
    """Write a kubeconfig user that gets its token from authsome, with kubectl config."""
    from authsome.services.kubecred import setup_kube as run

    written, current = run(ctx, ref, cluster, user)
    ctx.io.say(
        f"authsome: kubeconfig user {written} gets its token from authsome, context {cluster}."
        f" {current}"
    )
