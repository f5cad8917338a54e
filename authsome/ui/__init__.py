"""What a person sees and does: the prompter and the browser opener."""
