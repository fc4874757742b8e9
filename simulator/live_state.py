"""The simulated site as time moves on.

Power follows a day curve scaled from the capture (sunrise to sunset for solar, a
morning and an evening peak for the house), a battery charges from surplus solar and
covers the deficit down to its reserve, and every lifetime counter grows by
integrating the power that feeds it, so energy and power always agree.
"""

from dataclasses import dataclass
import math

from .clock import Clock

# The integration step: short enough for smooth counters, long enough for jumps of days.
_STEP_SECONDS = 60.0
_MAX_STEPS = 20_000
_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """What the capture says about the site, used to shape the simulated day."""

    solar_peak_w: float
    mean_load_w: float
    battery_capacity_wh: float = 0.0  # 0 when the site has no battery
    initial_soc: float = 50.0  # %
    reserve_soc: float = 20.0  # %
    utc_offset_hours: float = 0.0  # where the day curve's noon falls

    @property
    def has_battery(self) -> bool:
        """Whether the site has a battery."""
        return self.battery_capacity_wh > 0


@dataclass(frozen=True, slots=True)
class PowerLimit:
    """A limit the gateway holds the inverters to: on export, or on production."""

    watts: float
    on_export: bool  # True: the site exports at most ``watts``; False: produces


@dataclass(frozen=True, slots=True)
class Figures:
    """The site at one moment: power now and energy counted since start or reboot."""

    time: float
    solar_w: float
    load_w: float
    battery_w: float  # positive = discharging
    soc: float | None  # %
    solar_wh: float
    load_wh: float
    import_wh: float
    export_wh: float
    charge_wh: float
    discharge_wh: float
    solar_today_wh: float
    uptime_s: float
    rebooted: (
        bool  # counters restarted from zero: captured lifetime bases no longer apply
    )
    jump_wh: float  # added to every lifetime counter by a "jump" fault
    dipped: bool = False  # a glitch: every lifetime counter reads 0 in this answer
    spike_wh: float = 0.0  # a glitch: added to every lifetime counter in this answer

    @property
    def grid_w(self) -> float:
        """Net grid power, positive when importing."""
        return self.load_w - self.solar_w - self.battery_w

    def lifetime(self, base: float, delta_wh: float) -> float:
        """Return a lifetime counter: its captured ``base`` plus the energy since."""
        if self.dipped:
            return 0.0
        if self.rebooted:
            return delta_wh + self.jump_wh + self.spike_wh
        return base + delta_wh + self.jump_wh + self.spike_wh


def solar_fraction(time: float, utc_offset_hours: float) -> float:
    """Return the share of peak solar power at ``time`` (0 at night, 1 at clear noon)."""
    hour = (time / 3600.0 + utc_offset_hours) % 24.0
    if not 6.0 < hour < 20.0:
        return 0.0
    clear: float = math.sin(math.pi * (hour - 6.0) / 14.0) ** 1.5
    # A slow wobble, as passing clouds would give.
    return clear * (0.92 + 0.08 * math.cos(2 * math.pi * time / 900.0))


def load_fraction(time: float, utc_offset_hours: float) -> float:
    """Return the house load relative to its daily mean (a morning and evening peak)."""
    hour = (time / 3600.0 + utc_offset_hours) % 24.0
    shape = (
        0.65
        + 0.45 * math.exp(-(((hour - 19.0) / 2.5) ** 2))
        + 0.25 * math.exp(-(((hour - 7.5) / 1.5) ** 2))
    )
    return shape * (1.0 + 0.05 * math.sin(2 * math.pi * time / 600.0))


class LiveState:
    """The simulated site, advanced lazily to the clock's time whenever it is read."""

    def __init__(
        self, profile: SiteProfile, clock: Clock, *, uptime_at_start: float = 0.0
    ) -> None:
        """Start the site at the clock's current time."""
        self.profile = profile
        self.clock = clock
        self.reserve_soc = profile.reserve_soc
        self.backup_only = (
            False  # battery kept full for outages, solar still charges it
        )
        self.islanded = (
            False  # off grid: the battery balances the house, or solar is cut
        )
        start = clock.now()
        self._cursor = start
        self._boot_time = start - uptime_at_start
        self._soc = profile.initial_soc if profile.has_battery else None
        self._counters = dict.fromkeys(
            ("solar", "load", "import", "export", "charge", "discharge"), 0.0
        )
        self._today_start = self._local_midnight(start)
        self._solar_at_midnight = 0.0
        self._rebooted = False
        self._jump_wh = 0.0
        # When the inverters stop and start again for a production switch write.
        self._solar_off_from: float | None = None
        self._solar_on_from: float | None = None
        # Each limit written, from the time the inverters follow it.
        self._limits: list[tuple[float, PowerLimit | None]] = []

    def limit_power(self, limit: PowerLimit | None, after: float) -> None:
        """Hold the inverters to ``limit`` (None: no limit) from time ``after`` on."""
        self._limits = [(t, held) for t, held in self._limits if t < after]
        self._limits.append((after, limit))

    def power_limit(self, time: float) -> PowerLimit | None:
        """The limit the inverters follow at ``time``, if any."""
        current: PowerLimit | None = None
        for since, limit in self._limits:
            if since > time:
                break
            current = limit
        return current

    def hold_production(self, after: float) -> None:
        """Stop solar production from time ``after`` on (the inverters' delay)."""
        now = self.clock.now()
        if self._solar_off_from is None or (
            self._solar_on_from is not None and self._solar_on_from <= now
        ):
            self._solar_off_from, self._solar_on_from = after, None
        elif self._solar_on_from is not None:
            self._solar_on_from = None  # a start not yet applied is cancelled

    def release_production(self, after: float) -> None:
        """Let solar production resume from time ``after`` on."""
        now = self.clock.now()
        if self._solar_off_from is None:
            return
        if self._solar_off_from > now:
            self._solar_off_from = None  # a stop not yet applied is cancelled
        elif self._solar_on_from is None:
            self._solar_on_from = after

    def producing(self, time: float) -> bool:
        """Whether the inverters are allowed to produce at ``time``."""
        off, on = self._solar_off_from, self._solar_on_from
        return off is None or time < off or (on is not None and time >= on)

    def power(self, time: float, soc: float | None) -> tuple[float, float, float]:
        """Return solar, load and battery power (W) at ``time`` for charge ``soc``."""
        offset = self.profile.utc_offset_hours
        solar = self.profile.solar_peak_w * solar_fraction(time, offset)
        if not self.producing(time):
            solar = 0.0
        load = self.profile.mean_load_w * load_fraction(time, offset)
        battery = 0.0
        if self.islanded:
            if soc is None or (soc >= 100.0 and solar > load):
                return min(solar, load), load, 0.0
            return solar, load, load - solar
        limit = self.power_limit(time)
        if limit is not None and not limit.on_export:
            solar = min(solar, limit.watts)
        if soc is not None:
            rate = self.profile.battery_capacity_wh * 0.5  # C/2
            surplus = solar - load
            if surplus > 0 and soc < 100.0:
                battery = -min(surplus, rate)
            elif surplus < 0 and soc > self.reserve_soc and not self.backup_only:
                battery = min(-surplus, rate)
        if limit is not None and limit.on_export:
            # Curtailed to what the house and the charging battery take, plus the
            # export allowed: grid power (load - solar - battery) >= -watts.
            solar = max(0.0, min(solar, load - battery + limit.watts))
        return solar, load, battery

    def figures(self, at: float | None = None) -> Figures:
        """Return the site's figures now, or at an earlier time ``at``.

        The site only moves forward: asked for a time it has already passed, it
        answers with power at that time and counters as they are.
        """
        now = self.clock.now() if at is None else min(at, self.clock.now())
        self._advance(now)
        solar, load, battery = self.power(now, self._soc)
        counters = self._counters
        return Figures(
            time=now,
            solar_w=solar,
            load_w=load,
            battery_w=battery,
            soc=self._soc,
            solar_wh=counters["solar"],
            load_wh=counters["load"],
            import_wh=counters["import"],
            export_wh=counters["export"],
            charge_wh=counters["charge"],
            discharge_wh=counters["discharge"],
            solar_today_wh=counters["solar"] - self._solar_at_midnight,
            uptime_s=max(0.0, now - self._boot_time),
            rebooted=self._rebooted,
            jump_wh=self._jump_wh,
        )

    def reboot(self) -> None:
        """Restart the gateway: uptime and every counter start again from zero."""
        now = self.clock.now()
        self._advance(now)
        self._boot_time = now
        self._counters = dict.fromkeys(self._counters, 0.0)
        self._solar_at_midnight = 0.0
        self._rebooted = True
        self._jump_wh = 0.0

    def jump(self, wh: float) -> None:
        """Make every lifetime counter jump by ``wh`` for good (e.g. a firmware fix)."""
        self._jump_wh += wh

    def _local_midnight(self, time: float) -> float:
        offset = self.profile.utc_offset_hours * 3600.0
        return math.floor((time + offset) / _DAY) * _DAY - offset

    def _advance(self, until: float) -> None:
        span = until - self._cursor
        if span <= 0:
            return
        step = max(_STEP_SECONDS, span / _MAX_STEPS)
        counters = self._counters
        capacity = self.profile.battery_capacity_wh
        while self._cursor < until:
            dt = min(step, until - self._cursor)
            middle = self._cursor + dt / 2
            solar, load, battery = self.power(middle, self._soc)
            hours = dt / 3600.0
            counters["solar"] += solar * hours
            counters["load"] += load * hours
            grid = load - solar - battery
            counters["import" if grid > 0 else "export"] += abs(grid) * hours
            if self._soc is not None and capacity > 0:
                counters["discharge" if battery > 0 else "charge"] += (
                    abs(battery) * hours
                )
                soc = self._soc - battery * hours / capacity * 100.0
                self._soc = min(100.0, max(0.0, soc))
            self._cursor += dt
            midnight = self._local_midnight(self._cursor)
            if midnight > self._today_start:
                self._today_start = midnight
                self._solar_at_midnight = counters["solar"]


DEFAULT_PEAK_W = 4000.0  # a typical home array, for captures that give no hint
DEFAULT_LOAD_W = 800.0


def estimate_solar_peak(
    captured_w: float, captured_time: float | None, nameplate_w: float, offset: float
) -> float:
    """Return a clear-noon solar power consistent with what the capture shows.

    The larger of 80 % of the nameplate and the captured power scaled up to noon by
    the day curve (or by a third when the capture was taken near dark).
    """
    candidates = [nameplate_w * 0.8] if nameplate_w > 0 else []
    if captured_w > 0:
        fraction = (
            solar_fraction(captured_time, offset) if captured_time is not None else 0.0
        )
        candidates.append(captured_w / fraction if fraction > 0.3 else captured_w * 1.3)
    return max(candidates) if candidates else DEFAULT_PEAK_W


def estimate_mean_load(
    captured_w: float, captured_time: float | None = None, offset: float = 0.0
) -> float:
    """Return the house's mean load from a captured load (a default without one).

    With the capture's time known, the mean is chosen so that the day curve passes
    through the captured load at that time: a capture replayed at the moment it was
    taken serves the load it recorded.
    """
    if captured_w <= 50:
        return DEFAULT_LOAD_W
    if captured_time is None:
        return captured_w
    return captured_w / load_fraction(captured_time, offset)
