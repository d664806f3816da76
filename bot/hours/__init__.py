"""Business hours: the schedule (schedule.py), how times are said (wording.py) and the
once-per-closure notice (notice.py)."""
from bot.hours.notice import AfterHoursNotice
from bot.hours.schedule import BusinessHours, HoursConfigError

__all__ = ["AfterHoursNotice", "BusinessHours", "HoursConfigError"]
