"""The alarm horn: a distinct repeating tone per priority while an unacknowledged alarm is not silenced.

    critical  fast high beeps, five a second, two pitches
    high      two beeps every 2 s
    medium    a two-tone call every 4 s
    low       one soft chime every 8 s

The tone is the one of the highest priority among the unacknowledged alarms. **Silence** stops it until a
new alarm is annunciated (an alarm that was not unacknowledged when it was silenced, or one that activated
again), and acknowledging every alarm stops it too. `alarms.sound: false` in the site turns it off.

The tones are WAV files generated here (NumPy, the wave module) into the user's cache folder and played by
Qt Multimedia's QSoundEffect on a loop. Nothing of Qt Multimedia is touched without a place to play:
on the offscreen platform, on Linux without a PulseAudio/PipeWire server, when the library cannot load or
reports no output device, `available` is False, the reason is logged once at INFO, and the horn decides
as usual (the banner shows the note) but plays nothing. GUI thread.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import wave
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QGuiApplication

from hmi.alarms.model import AlarmSnapshot
from hmi.site.alarm_schema import Priority
from widgets.alarm_list import AlarmList

log = logging.getLogger(__name__)

RATE = 44_100  # what every output takes
TONE_VERSION = 1  # in the file names: a changed tone is generated again, not taken from the cache
# (start s, length s, frequency Hz) per note, the loop's period, and the loudness
PATTERNS: dict[Priority, tuple[list[tuple[float, float, float]], float, float]] = {
    Priority.CRITICAL: ([(i * 0.2, 0.1, 1400.0 if i % 2 == 0 else 1750.0) for i in range(5)], 1.0, 0.9),
    Priority.HIGH: ([(0.0, 0.18, 1000.0), (0.3, 0.18, 1000.0)], 2.0, 0.8),
    Priority.MEDIUM: ([(0.0, 0.25, 660.0), (0.28, 0.25, 880.0)], 4.0, 0.6),
    Priority.LOW: ([(0.0, 0.9, 523.25)], 8.0, 0.35),  # a chime: struck, then dying away
}


def tone_samples(priority: Priority) -> np.ndarray:
    """One period of the priority's pattern as int16 samples at RATE."""
    notes, period, loudness = PATTERNS[priority]
    out = np.zeros(round(period * RATE))
    for start, length, frequency in notes:
        t = np.arange(round(length * RATE)) / RATE
        if priority is Priority.LOW:
            wave_ = (np.sin(2 * np.pi * frequency * t) + 0.4 * np.sin(4 * np.pi * frequency * t)) / 1.4
            envelope = np.exp(-t / 0.25)
        else:  # a beep with square-ish timbre, 5 ms ramps so that it does not click
            wave_ = np.sin(2 * np.pi * frequency * t) + 0.2 * np.sin(6 * np.pi * frequency * t)
            envelope = np.ones_like(t)
        ramp = min(len(t) // 2, round(0.005 * RATE))
        envelope[:ramp] *= np.linspace(0, 1, ramp)
        envelope[len(t) - ramp:] *= np.linspace(1, 0, ramp)
        first = round(start * RATE)
        out[first:first + len(t)] += wave_ * envelope
    return np.round(np.clip(out * loudness, -1, 1) * 32000).astype("<i2")


def tone_wav(priority: Priority) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(tone_samples(priority).tobytes())
    return buffer.getvalue()


def tone_files(folder: Path | None = None) -> dict[Priority, Path]:
    """The four WAV files, generated into `folder` (default: the user's cache) unless already there."""
    folder = folder or Path(platformdirs.user_cache_dir("linewise", "Linewise")) / "alarm-tones"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for priority in Priority:
        path = folder / f"alarm-{priority.name.lower()}-v{TONE_VERSION}.wav"
        if not path.is_file():
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(tone_wav(priority))
            temporary.replace(path)
        files[priority] = path
    return files


def _sound_server_running() -> bool:
    """Linux: Qt plays through PulseAudio (or PipeWire's Pulse server); without one, asking Qt for the devices
    only produces warnings."""
    if os.environ.get("PULSE_SERVER"):
        return True
    runtime_dir = Path(os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}")
    return any((runtime_dir / name).exists() for name in ("pulse/native", "pipewire-0"))


def probe_audio_output() -> tuple[bool, str]:
    """(True, device) when a tone can be played, else (False, why not). Touches Qt Multimedia only last."""
    platform = QGuiApplication.platformName() if QGuiApplication.instance() else os.environ.get("QT_QPA_PLATFORM", "")
    if platform in ("offscreen", "minimal"):
        return False, f"no sound on the {platform} display platform"
    if sys.platform.startswith("linux") and not _sound_server_running():
        return False, "no sound server (PulseAudio or PipeWire) is running for this user"
    from PySide6.QtCore import QLoggingCategory

    QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver.warning=false")  # optional codecs, not sound
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as exc:  # e.g. libpulse missing
        return False, f"Qt Multimedia cannot be loaded ({exc})"
    device = QMediaDevices.defaultAudioOutput()
    if device.isNull():
        return False, "no audio output device"
    return True, device.description()


class HornLogic:
    """Which tone sounds, if any: the decision without a sound device (tested on its own)."""

    def __init__(self) -> None:
        self.silenced: set[tuple[str, float | None]] | None = None  # the unacknowledged alarms when silenced

    @staticmethod
    def _pending(alarms: Iterable[AlarmSnapshot]) -> dict[tuple[str, float | None], Priority]:
        return {(a.id, a.activated_at): a.priority for a in alarms if a.state.unacknowledged}

    def decide(self, alarms: Iterable[AlarmSnapshot]) -> Priority | None:
        pending = self._pending(alarms)
        if not pending:
            self.silenced = None  # all acknowledged: the next alarm sounds
            return None
        if self.silenced is not None:
            if pending.keys() <= self.silenced:
                return None
            self.silenced = None  # a new alarm re-arms the horn
        return max(pending.values())

    def silence(self, alarms: Iterable[AlarmSnapshot]) -> None:
        self.silenced = set(self._pending(alarms))


class AlarmHorn(QObject):
    tone_changed = Signal(object)  # Priority | None: what sounds now (or would, without a device)

    def __init__(self, alarms: AlarmList, enabled: bool = True, parent: QObject | None = None,
                 tone_folder: Path | None = None) -> None:
        super().__init__(parent)
        self.alarms = alarms
        self.enabled = enabled
        self.logic = HornLogic()
        self.tone: Priority | None = None
        self._effects: dict[Priority, Any] = {}
        self._playing: Any = None
        self._stopped = False
        if enabled:
            self.available, self.reason = probe_audio_output()
        else:
            self.available, self.reason = False, "sound is off in the site (alarms.sound: false)"
        if self.available:
            try:
                self._create_effects(tone_files(tone_folder))
            except OSError as exc:
                self.available, self.reason = False, f"the alarm tones cannot be written ({exc})"
        log.info("alarm horn: %s", f"plays on {self.reason}" if self.available else f"silent: {self.reason}")
        alarms.changed.connect(self.update)
        self.update()

    def _create_effects(self, files: dict[Priority, Path]) -> None:
        from PySide6.QtMultimedia import QSoundEffect

        for priority, path in files.items():
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setLoopCount(QSoundEffect.Loop.Infinite.value)
            effect.setVolume(1.0)
            self._effects[priority] = effect

    @property
    def sounding(self) -> bool:
        return self.tone is not None

    def note(self) -> str:
        """The banner's small note when the horn cannot be heard."""
        if not self.enabled:
            return "sound off"
        return "" if self.available else "no sound device"

    def update(self, *_: object) -> None:
        tone = self.logic.decide(self.alarms.alarms.values()) if self.enabled else None
        if tone is self.tone:
            return
        self.tone = tone
        self._play(tone)
        self.tone_changed.emit(tone)

    def silence(self) -> None:
        self.logic.silence(self.alarms.alarms.values())
        self.update()

    def stop(self) -> None:
        """For good (the window closes): quiet, and no longer following the alarms."""
        if not self._stopped:
            self._stopped = True
            self.alarms.changed.disconnect(self.update)
        self._play(None)

    def _play(self, tone: Priority | None) -> None:
        if self._playing is not None:
            self._playing.stop()
            self._playing = None
        if tone is not None and tone in self._effects:
            self._playing = self._effects[tone]
            self._playing.play()
