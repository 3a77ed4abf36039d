"""`python -m benchmarks.collection [--quick] [--throttle 0.1]`: see docs/benchmarks.md."""

from benchmarks.collection.run import main

if __name__ == "__main__":
    main()
