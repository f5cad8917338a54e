# Nix package for authsome: nix-build packaging/nix (or callPackage from an overlay).
# Checked in CI with `nix-instantiate --parse` only: no Nix store is available there.
{ pkgs ? import <nixpkgs> { } }:

pkgs.python3Packages.buildPythonApplication {
  pname = "authsome";
  version = "0.1.0";
  pyproject = true;
  src = ../..;

  build-system = [ pkgs.python3Packages.hatchling ];
  dependencies = with pkgs.python3Packages; [ click cryptography httpx keyring secretstorage ];
  nativeBuildInputs = [ pkgs.installShellFiles ];

  postInstall = ''
    installShellCompletion --cmd authsome \
      --bash completions/authsome.bash \
      --zsh completions/_authsome \
      --fish completions/authsome.fish
    install -Dm644 -t $out/share/authsome/shell shell/*
    installManPage packaging/man/authsome.1
  '';

  meta = {
    description = "Credential manager for people and AI agents who work in shells";
    homepage = "https://authsome.ai";
    license = pkgs.lib.licenses.mit;
    mainProgram = "authsome";
  };
}
