"""What each command does, one module per command or command group; never imports click."""
