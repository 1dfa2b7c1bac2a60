from xlsgen.cli import main

if __name__ == "__main__":
    main()
