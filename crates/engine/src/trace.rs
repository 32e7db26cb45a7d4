//! Trace sinks: where structured records of "what happened" go.
//!
//! A model calls [`crate::Ctx::trace`]; the record reaches the simulation's sink. Sinks are
//! a type parameter, so with [`NoTrace`] (`ENABLED = false`) the call and the building of
//! its detail string compile away: tracing costs nothing when off.
//!
//! Sinks: [`NoTrace`], [`MemoryTrace`] (keeps records), [`JsonLinesTrace`] (one JSON object
//! a line to any `io::Write` the caller owns), [`HashTrace`] (a running 64-bit digest, for
//! determinism checks), and tuples `(A, B)` to feed two at once.

use std::io::Write;

use serde::Serialize;

use crate::time::SimTime;

/// One structured trace record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TraceRecord<'a> {
    /// When it happened.
    #[serde(rename = "t_ms", serialize_with = "ser_ms")]
    pub time: SimTime,
    /// Which component, e.g. `"server/mbx1"`.
    pub component: &'a str,
    /// What happened, a short stable word, e.g. `"down"`.
    pub what: &'a str,
    /// Free-form detail; empty when there is none.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub detail: &'a str,
}

fn ser_ms<S: serde::Serializer>(t: &SimTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(t.as_millis())
}

/// An owned [`TraceRecord`], as kept by [`MemoryTrace`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedTraceRecord {
    /// When it happened.
    #[serde(rename = "t_ms", serialize_with = "ser_ms")]
    pub time: SimTime,
    /// Which component.
    pub component: String,
    /// What happened.
    pub what: String,
    /// Free-form detail; empty when there is none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Receives trace records.
pub trait TraceSink {
    /// Whether records are wanted at all. When `false`, callers skip building them.
    const ENABLED: bool = true;
    /// Receives one record.
    fn record(&mut self, rec: &TraceRecord<'_>);
}

/// Tracing off. Zero-sized; every call compiles away.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl TraceSink for NoTrace {
    const ENABLED: bool = false;
    #[inline(always)]
    fn record(&mut self, _rec: &TraceRecord<'_>) {}
}

/// Keeps every record in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryTrace {
    /// The records, in the order they were made.
    pub records: Vec<OwnedTraceRecord>,
}

impl TraceSink for MemoryTrace {
    fn record(&mut self, rec: &TraceRecord<'_>) {
        self.records.push(OwnedTraceRecord {
            time: rec.time,
            component: rec.component.to_owned(),
            what: rec.what.to_owned(),
            detail: rec.detail.to_owned(),
        });
    }
}

/// Writes one JSON object per line: `{"t_ms":…,"component":…,"what":…,"detail":…}`.
///
/// The first write error is kept and later records are dropped; [`JsonLinesTrace::finish`]
/// returns it, so a full disk is reported rather than silently truncating the trace.
#[derive(Debug)]
pub struct JsonLinesTrace<W: Write> {
    out: W,
    error: Option<std::io::Error>,
    written: u64,
}

impl<W: Write> JsonLinesTrace<W> {
    /// Writes to `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        JsonLinesTrace {
            out,
            error: None,
            written: 0,
        }
    }

    /// Number of records written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes and returns the writer, or the first error met.
    pub fn finish(mut self) -> std::io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> TraceSink for JsonLinesTrace<W> {
    fn record(&mut self, rec: &TraceRecord<'_>) {
        if self.error.is_some() {
            return;
        }
        let res = serde_json::to_writer(&mut self.out, rec)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        match res {
            Ok(()) => self.written += 1,
            Err(e) => self.error = Some(e),
        }
    }
}

/// A running FNV-1a-64 digest of every record: two runs that trace the same records in
/// the same order have the same digest. Cheap enough to leave on in determinism checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashTrace {
    digest: u64,
    records: u64,
}

impl Default for HashTrace {
    fn default() -> Self {
        HashTrace {
            digest: FNV_OFFSET,
            records: 0,
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl HashTrace {
    /// The digest so far.
    pub fn digest(&self) -> u64 {
        self.digest
    }
    /// Number of records hashed.
    pub fn records(&self) -> u64 {
        self.records
    }
    fn eat(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.digest = (self.digest ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }
}

impl TraceSink for HashTrace {
    fn record(&mut self, rec: &TraceRecord<'_>) {
        self.eat(&rec.time.as_millis().to_le_bytes());
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        for field in [rec.component, rec.what, rec.detail] {
            self.eat(&(field.len() as u64).to_le_bytes());
            self.eat(field.as_bytes());
        }
        self.records += 1;
    }
}

impl<A: TraceSink, B: TraceSink> TraceSink for (A, B) {
    const ENABLED: bool = A::ENABLED || B::ENABLED;
    fn record(&mut self, rec: &TraceRecord<'_>) {
        if A::ENABLED {
            self.0.record(rec);
        }
        if B::ENABLED {
            self.1.record(rec);
        }
    }
}

impl<S: TraceSink + ?Sized> TraceSink for &mut S {
    const ENABLED: bool = S::ENABLED;
    fn record(&mut self, rec: &TraceRecord<'_>) {
        (**self).record(rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec<'a>(ms: u64, c: &'a str, w: &'a str, d: &'a str) -> TraceRecord<'a> {
        TraceRecord {
            time: SimTime::from_millis(ms),
            component: c,
            what: w,
            detail: d,
        }
    }

    #[test]
    fn json_lines_are_one_object_per_line() {
        let mut sink = JsonLinesTrace::new(Vec::new());
        sink.record(&rec(1500, "server/mbx1", "down", ""));
        sink.record(&rec(2000, "db/db1", "mounted", "on \"mbx3\""));
        assert_eq!(sink.written(), 2);
        let out = String::from_utf8(sink.finish().expect("no io error")).expect("utf8");
        assert_eq!(
            out,
            "{\"t_ms\":1500,\"component\":\"server/mbx1\",\"what\":\"down\"}\n\
             {\"t_ms\":2000,\"component\":\"db/db1\",\"what\":\"mounted\",\"detail\":\"on \\\"mbx3\\\"\"}\n"
        );
    }

    #[test]
    fn json_lines_report_the_first_write_error() {
        #[derive(Debug)]
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut sink = JsonLinesTrace::new(Full);
        sink.record(&rec(1, "a", "b", ""));
        sink.record(&rec(2, "a", "b", ""));
        assert_eq!(sink.written(), 0);
        let err = sink.finish().expect_err("must report");
        assert!(err.to_string().contains("disk full"));
    }

    #[test]
    fn hash_separates_fields_and_order() {
        let h = |recs: &[TraceRecord<'_>]| {
            let mut s = HashTrace::default();
            recs.iter().for_each(|r| s.record(r));
            s.digest()
        };
        let a = rec(1, "ab", "c", "");
        let b = rec(1, "a", "bc", "");
        assert_ne!(h(&[a]), h(&[b]));
        assert_ne!(h(&[a, b]), h(&[b, a]));
        assert_eq!(h(&[a, b]), h(&[a, b]));
        assert_ne!(h(&[a]), h(&[rec(2, "ab", "c", "")]));
    }

    #[test]
    fn tuple_feeds_both() {
        let mut pair = (MemoryTrace::default(), HashTrace::default());
        pair.record(&rec(1, "a", "b", "c"));
        assert_eq!(pair.0.records.len(), 1);
        assert_eq!(pair.1.records(), 1);
        const { assert!(!<(NoTrace, NoTrace) as TraceSink>::ENABLED) };
        const { assert!(<(NoTrace, HashTrace) as TraceSink>::ENABLED) };
    }
}
