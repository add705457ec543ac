"""`python -m bench.leaderboard`: ranked tables with bootstrap intervals and significance (bench.reports)."""

from bench.reports.leaderboard import main

if __name__ == "__main__":
    main()
