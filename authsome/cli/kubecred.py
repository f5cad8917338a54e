from __future__ import annotations

import click

from authsome.cli.complete import connected_refs

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command("kube-credential")
@click.argument("ref", metavar="NAME[:C]", shell_complete=connected_refs)
@click.pass_obj
def kube_credential(ctx: Context, ref):
    """Print an ExecCredential for kubectl.

    kubectl runs it as a client-go exec credential plugin; set it up with: authsome setup-kube.

    \b
    Examples:
      authsome setup-kube google --cluster my-gke-cluster
      kubectl get pods
    """
    from authsome.services.kubecred import exec_credential

    ctx.io.emit(exec_credential(ctx, ref))


@click.command("setup-kube")
@click.argument("ref", metavar="NAME[:C]", shell_complete=connected_refs)
@click.option("--cluster", required=True, help="The kubeconfig cluster to use it for.")
@click.option("--user", help="The kubeconfig user to write (default: authsome-NAME).")
@click.pass_obj
def setup_kube(ctx: Context, ref, cluster, user):
    """Write a kubeconfig user that asks authsome for tokens.

    With kubectl config; the cluster's context uses that user.

    \b
    Examples:
      authsome setup-kube google --cluster my-gke-cluster
    """
    from authsome.services.kubecred import setup_kube as run

    written, current = run(ctx, ref, cluster, user)
    ctx.io.say(
        f"authsome: kubeconfig user {written} gets its token from authsome, context {cluster}."
        f" {current}"
    )
