"""Print the instant the time-shifted test run starts at (MEND_TEST_CLOCK): a year from today, on the next day
the clocks change in Europe (the last Sunday of March or October), two minutes before the change at
01:00 UTC, so the run crosses it. Tests that read the real clock without saying so fail there."""

from datetime import UTC, date, datetime, timedelta


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def main() -> None:
    ahead = datetime.now(UTC).date() + timedelta(days=365)
    changes = sorted(last_sunday(year, month) for year in (ahead.year, ahead.year + 1) for month in (3, 10))
    day = next(change for change in changes if change >= ahead)
    print(f"{day.isoformat()}T00:58:00Z")


if __name__ == "__main__":
    main()
