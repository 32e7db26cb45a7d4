//! Typed errors of the engine. Each enum covers one phase; all are `#[non_exhaustive]`.

use crate::time::SimTime;

/// A duration or time string that cannot be parsed. Never fatal to a process: the caller
/// reports it against the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationParseError {
    /// The string is empty.
    #[error("empty duration: write durations like \"90s\", \"5m\" or \"2h30m\"")]
    Empty,
    /// The string starts with a minus sign.
    #[error("duration {input:?} is negative: durations are zero or more, like \"0s\" or \"5m\"")]
    Negative {
        /// The whole input.
        input: String,
    },
    /// A character that cannot start or continue a component.
    #[error(
        "duration {input:?} is malformed at byte {position}: write durations like \"250ms\", \"90s\", \"5m\", \"2h30m\" or \"3d\" (no spaces or signs)"
    )]
    Malformed {
        /// The whole input.
        input: String,
        /// Byte offset of the offending character.
        position: usize,
    },
    /// A number with no unit after it.
    #[error(
        "duration {input:?} has a number without a unit: add one of d, h, m, s, ms (e.g. \"90s\")"
    )]
    MissingUnit {
        /// The whole input.
        input: String,
    },
    /// A unit that is not `d`, `h`, `m`, `s` or `ms`.
    #[error(
        "duration {input:?} has unknown unit {unit:?}: use d, h, m, s or ms (e.g. \"5m\", not \"5 minutes\")"
    )]
    UnknownUnit {
        /// The whole input.
        input: String,
        /// The unit as written.
        unit: String,
    },
    /// Units repeated or not in decreasing order.
    #[error(
        "duration {input:?} has unit {unit:?} out of order: write larger units first, each once (e.g. \"2h30m\")"
    )]
    UnitOrder {
        /// The whole input.
        input: String,
        /// The unit that came too late.
        unit: String,
    },
    /// A fraction that does not come out to whole milliseconds.
    #[error("duration {input:?} is finer than a millisecond, the simulator's resolution")]
    SubMillisecond {
        /// The whole input.
        input: String,
    },
    /// More than `u64::MAX` milliseconds (about 584 million years).
    #[error("duration {input:?} is too long: the limit is about 584 million years")]
    Overflow {
        /// The whole input.
        input: String,
    },
}

/// Why an event could not be scheduled. Fatal to the event, not to the run: the caller
/// decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The requested time is before the current time.
    #[error("cannot schedule an event at {at}, which is before the current time {now}")]
    InThePast {
        /// The requested time.
        at: SimTime,
        /// The current time.
        now: SimTime,
    },
    /// `now + delay` is past [`SimTime::MAX`].
    #[error("cannot schedule an event after {now}: the time overflows")]
    Overflow {
        /// The current time.
        now: SimTime,
    },
    /// The queue holds `u32::MAX` events already.
    #[error("the event queue is full ({0} pending events)")]
    QueueFull(usize),
}

/// A stream name that the derivation in [`crate::rng`] cannot encode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamNameError {
    /// Names are 1 to 15 bytes.
    #[error("stream name {0:?} must be 1 to 15 bytes long")]
    Length(String),
    /// Names are ASCII letters, digits, `-`, `_`, `.` and `/`.
    #[error("stream name {0:?} may contain only ASCII letters, digits, '-', '_', '.' and '/'")]
    Charset(String),
}
