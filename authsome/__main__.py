from authsome.main import main

main()
