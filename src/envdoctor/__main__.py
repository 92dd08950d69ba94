"""`python -m envdoctor`."""

from envdoctor.entry import main

if __name__ == "__main__":
    main()
