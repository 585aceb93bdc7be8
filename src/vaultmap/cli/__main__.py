from vaultmap.cli import main

main()
