from authsome.cli import main

main()
