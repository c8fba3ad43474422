//! The streaming scanner: one pass over a stream of bytes given in chunks, an aho-corasick
//! search for every rule's anchors, then each rule's regex over the neighbourhood of its anchor
//! hits only, then the rule's checks. Findings go to a sink.
//!
//! # The stream and its offsets
//! A stream is a run of contiguous bytes, fed in chunks with their absolute offsets
//! ([`Scanner::feed`], [`Scanner::scan_reader`]) and ended by [`Scanner::finish`]. A chunk whose
//! offset does not continue the stream ends it and starts another, so no secret is ever found
//! across a gap (two memory runs that are not adjacent, two files). Offsets in findings are
//! absolute.
//!
//! # Exactly once, whatever the chunking
//! The result does not depend on where the chunks are cut: it is the result of scanning the
//! whole stream at once. Per rule, matches are leftmost-first and do not overlap (as
//! `find_iter` over the whole stream would give them), restricted to matches that contain an
//! anchor of the rule. A match is judged only when every byte its value, context and
//! look-ahead can reach has arrived ([`super::Rule`]'s reach), so it is judged once, with the
//! same bytes. Between chunks the scanner keeps the last [`Rules::overlap`] bytes (about
//! 18 KiB for the built-in table: the longest value a rule may report is a 16 KiB private key).
//!
//! # Overlapping findings
//! When findings of different rules overlap (a GitHub token that is also an environment
//! variable's value), a finding is reported only if no overlapping finding beats it: higher
//! rule priority wins, then the earlier offset, then the earlier rule in the table. Findings
//! reach the sink in offset order.
//!
//! # Bounded memory and time
//! Memory is one buffer of `block + overlap` bytes plus the findings of about one block; nothing
//! grows with the stream. Each rule's regex runs over the merged neighbourhoods of its anchor
//! hits, never twice over the same bytes except the overlap kept between blocks, so time stays
//! linear even when an anchor repeats at every byte.

use std::io::{self, Read};

use aho_corasick::Input;
use regex::bytes::CaptureLocations;

use super::details::escape_printable;
use super::finding::Finding;
use super::rules::{Rule, Rules};
use super::validate::{run_checks, Candidate};

/// Bytes searched per block when none is given: large enough to amortise the work per block,
/// small enough to stay in the CPU's cache.
pub const DEFAULT_BLOCK: usize = 256 * 1024;

/// Receives findings; return `false` to stop the scan.
pub trait FindingSink<'r> {
    /// Called once per finding, in offset order.
    fn found(&mut self, finding: Finding<'r>) -> bool;
}

impl<'r, F: FnMut(Finding<'r>) -> bool> FindingSink<'r> for F {
    fn found(&mut self, finding: Finding<'r>) -> bool {
        self(finding)
    }
}

/// Where one rule stands in the stream.
#[derive(Debug, Clone, Copy, Default)]
struct RuleState {
    /// Every match of the rule starting before this offset has been judged.
    resume: u64,
    /// Bytes still to search for the rule, from its anchor hits.
    region: Option<Region>,
}

/// The merged neighbourhood of one or more anchor hits of a rule.
#[derive(Debug, Clone, Copy)]
struct Region {
    /// Earliest offset a match may start at.
    start: u64,
    /// The last anchor hit: matches must start at or before it.
    last_hit: u64,
    /// The end of the bytes the matches, their values and contexts can reach.
    end: u64,
}

/// A found value waiting until no later finding can overlap it.
#[derive(Debug)]
struct Held<'r> {
    finding: Finding<'r>,
    /// An overlapping finding beats this one: it will not be reported.
    beaten: bool,
}

/// A streaming scanner over one rule table. See the module documentation.
#[derive(Debug)]
pub struct Scanner<'r> {
    rules: &'r Rules,
    /// Per rule, the capture slots of its regex, made on the rule's first anchor hit.
    locations: Vec<Option<CaptureLocations>>,
    states: Vec<RuleState>,
    held: Vec<Held<'r>>,
    buf: Vec<u8>,
    block: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// Bytes of `buf` that hold stream data.
    filled: usize,
    /// Absolute offset of the current stream's first byte.
    stream_start: u64,
    /// Anchors starting before this offset have been handled.
    anchors_done: u64,
    active: bool,
    stopped: bool,
}

impl<'r> Scanner<'r> {
    /// A scanner over `rules` searching [`DEFAULT_BLOCK`] bytes at a time.
    pub fn new(rules: &'r Rules) -> Self {
        Self::with_block(rules, DEFAULT_BLOCK)
    }

    /// A scanner that searches `block` new bytes at a time (at least 1). Memory is
    /// `block + rules.overlap()` bytes. Small blocks are for tests of chunk boundaries.
    pub fn with_block(rules: &'r Rules, block: usize) -> Self {
        let block = block.max(1);
        Scanner {
            rules,
            locations: rules.rules().iter().map(|_| None).collect(),
            states: vec![RuleState::default(); rules.rules().len()],
            held: Vec::new(),
            buf: vec![0; block + rules.overlap()],
            block,
            base: 0,
            filled: 0,
            stream_start: 0,
            anchors_done: 0,
            active: false,
            stopped: false,
        }
    }

    /// Scans `chunk`, the stream's bytes from absolute offset `offset`. A chunk that does not
    /// continue the current stream ends it first (see [`Scanner::finish`]). Returns `false` if
    /// the sink stopped the scan; a stopped scanner ignores further input.
    pub fn feed<S>(&mut self, offset: u64, chunk: &[u8], sink: &mut S) -> bool
    where
        S: FindingSink<'r> + ?Sized,
    {
        if !self.begin(offset, sink) {
            return false;
        }
        let mut rest = chunk;
        while !rest.is_empty() {
            let room = self.buf.len() - self.filled;
            let (now, later) = rest.split_at(room.min(rest.len()));
            if let Some(space) = self.buf.get_mut(self.filled..self.filled + now.len()) {
                space.copy_from_slice(now);
            }
            self.filled += now.len();
            rest = later;
            if (self.unsearched() >= self.block || self.filled == self.buf.len())
                && !self.search_block(sink)
            {
                return false;
            }
        }
        true
    }

    /// Scans everything `reader` yields as the stream's bytes from absolute offset `offset`,
    /// reading straight into the scanner's buffer (no copy). Does not end the stream.
    /// Returns `Ok(false)` if the sink stopped the scan; an I/O error names the offset it
    /// happened at.
    pub fn scan_reader<R, S>(
        &mut self,
        offset: u64,
        reader: &mut R,
        sink: &mut S,
    ) -> io::Result<bool>
    where
        R: Read + ?Sized,
        S: FindingSink<'r> + ?Sized,
    {
        if !self.begin(offset, sink) {
            return Ok(false);
        }
        loop {
            let space = self.buf.get_mut(self.filled..).unwrap_or_default();
            let read = match reader.read(space) {
                Ok(0) => return Ok(true),
                Ok(read) => read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    let at = self.base + self.filled as u64;
                    return Err(io::Error::new(
                        err.kind(),
                        format!("reading the stream at offset {at:#x}: {err}"),
                    ));
                }
            };
            self.filled += read;
            if (self.unsearched() >= self.block || self.filled == self.buf.len())
                && !self.search_block(sink)
            {
                return Ok(false);
            }
        }
    }

    /// Ends the stream: judges what is left and hands every remaining finding to the sink.
    /// The next chunk starts a new stream. Returns `false` if the sink stopped the scan.
    pub fn finish<S>(&mut self, sink: &mut S) -> bool
    where
        S: FindingSink<'r> + ?Sized,
    {
        if self.active && !self.stopped {
            self.search(true);
            self.release(u64::MAX, sink);
        }
        self.active = false;
        self.filled = 0;
        self.held.clear();
        !self.stopped
    }

    /// The buffer's size and the number of findings held (for tests of bounded memory).
    #[cfg(test)]
    pub(super) fn memory_use(&self) -> (usize, usize) {
        (self.buf.len(), self.held.len())
    }

    /// Starts a stream at `offset` unless the current one continues there.
    fn begin<S>(&mut self, offset: u64, sink: &mut S) -> bool
    where
        S: FindingSink<'r> + ?Sized,
    {
        if self.stopped {
            return false;
        }
        if self.active && offset == self.base + self.filled as u64 {
            return true;
        }
        if self.active && !self.finish(sink) {
            return false;
        }
        self.active = true;
        self.base = offset;
        self.stream_start = offset;
        self.anchors_done = offset;
        self.filled = 0;
        self.states.fill(RuleState {
            resume: offset,
            region: None,
        });
        true
    }

    /// Bytes in the buffer the anchor search has not covered yet.
    fn unsearched(&self) -> usize {
        let searched = usize::try_from(self.anchors_done - self.base).unwrap_or(usize::MAX);
        self.filled.saturating_sub(searched)
    }

    /// Searches what arrived, releases the findings no later one can overlap, and makes room.
    fn search_block<S>(&mut self, sink: &mut S) -> bool
    where
        S: FindingSink<'r> + ?Sized,
    {
        self.search(false);
        let horizon = self.horizon();
        if !self.release(horizon, sink) {
            return false;
        }
        self.make_room();
        true
    }

    /// Finds the anchors in the new bytes and judges every match whose bytes have all arrived
    /// (all of them at the end of the stream).
    fn search(&mut self, at_end: bool) {
        let rules = self.rules;
        let end = self.base + self.filled as u64;
        let mut from = usize::try_from(self.anchors_done - self.base).unwrap_or(usize::MAX);
        while from < self.filled {
            let data = self.buf.get(..self.filled).unwrap_or_default();
            let Some(hit) = rules.anchors.find(Input::new(data).span(from..data.len())) else {
                break;
            };
            let at = self.base + hit.start() as u64;
            for &index in rules
                .triggers
                .get(hit.pattern().as_usize())
                .into_iter()
                .flatten()
            {
                if let Some(rule) = rules.rules().get(index) {
                    self.add_hit(rule, at, end, at_end);
                }
            }
            from = hit.start() + 1;
        }
        // An anchor that starts in the last `longest - 1` bytes may be cut by the end of the data.
        let uncut = end.saturating_sub(rules.longest_anchor.saturating_sub(1) as u64);
        self.anchors_done = (self.base + from as u64).max(uncut).min(end);
        if at_end {
            self.anchors_done = end;
        }
        for rule in rules.rules() {
            self.judge_region(rule, end, at_end);
        }
    }

    /// Adds an anchor hit of `rule` at `at`, merging it into the rule's region, or judging the
    /// previous region first when the new hit's neighbourhood does not touch it (all of that
    /// region's bytes have then arrived).
    fn add_hit(&mut self, rule: &'r Rule, at: u64, end: u64, at_end: bool) {
        let Some(state) = self.states.get(rule.index).copied() else {
            return;
        };
        let start = at
            .saturating_sub(rule.anchor_lead as u64)
            .max(self.stream_start)
            .max(state.resume);
        if start > at {
            return; // every match that could contain this anchor was judged
        }
        if state.region.is_some_and(|region| start > region.end) {
            self.judge_region(rule, end, at_end);
        }
        let Some(state) = self.states.get(rule.index).copied() else {
            return;
        };
        let start = start.max(state.resume);
        if start > at {
            return;
        }
        let reach = at.saturating_add(rule.reach_after() as u64);
        let region = match state.region {
            Some(region) => Region {
                last_hit: at,
                end: region.end.max(reach),
                ..region
            },
            None => Region {
                start,
                last_hit: at,
                end: reach,
            },
        };
        if let Some(state) = self.states.get_mut(rule.index) {
            state.region = Some(region);
        }
    }

    /// Runs `rule`'s regex over its region and judges every match whose bytes have all
    /// arrived; the rest of the region waits for more data.
    fn judge_region(&mut self, rule: &'r Rule, end: u64, at_end: bool) {
        let Some(state) = self.states.get(rule.index).copied() else {
            return;
        };
        let Some(region) = state.region else {
            return;
        };
        let reach = rule.reach_after() as u64;
        let complete = at_end || region.last_hit.saturating_add(reach) <= end;
        // Matches starting at or before `limit` have all their bytes; near the start of a
        // stream there may be none yet.
        let limit = if complete {
            region.last_hit
        } else {
            match end.checked_sub(reach) {
                Some(safe) => region.last_hit.min(safe),
                None => return,
            }
        };
        let mut resume = state.resume.max(region.start);
        let hay_end = self.rel(region.end.min(end));
        let Some(haystack) = self.buf.get(..hay_end) else {
            return;
        };
        let data = self.buf.get(..self.filled).unwrap_or_default();
        let stream_from = self.rel(self.stream_start.max(self.base));
        let Some(regex) = rule.regex() else {
            return;
        };
        let Some(locations) = self.locations.get_mut(rule.index) else {
            return;
        };
        let locations = locations.get_or_insert_with(|| regex.capture_locations());
        while resume <= limit && resume < end {
            let at = usize::try_from(resume - self.base).unwrap_or(usize::MAX);
            if at >= haystack.len() {
                break;
            }
            let Some((m_start, m_end)) = regex
                .captures_read_at(locations, haystack, at)
                .map(|m| (m.start(), m.end()))
            else {
                break;
            };
            if self.base + m_start as u64 > limit {
                break;
            }
            let group = |g: Option<usize>| g.and_then(|g| locations.get(g));
            let (v_start, v_end) = group(rule.value_group).unwrap_or((m_start, m_end));
            let name = group(rule.name_group);
            let window_start = m_start.saturating_sub(rule.within).max(stream_from);
            let window_end = (m_start + rule.value_max + rule.within).min(data.len());
            let window = data.get(window_start..window_end).unwrap_or_default();
            let candidate = Candidate {
                data: window,
                value: v_start - window_start..v_end - window_start,
                name: name.map(|(s, e)| s - window_start..e - window_start),
                limit: (m_start + rule.value_max).min(window_end) - window_start,
            };
            let mut next = m_end;
            if let Some(accepted) = run_checks(&rule.checks, &candidate) {
                let value_end = accepted.value.end + window_start;
                next = next.max(value_end);
                let near_from = m_start.saturating_sub(rule.within).max(stream_from);
                let near_to = (value_end.max(m_end) + rule.within).min(data.len());
                let around = data.get(near_from..near_to).unwrap_or_default();
                let near_ok =
                    rule.near.is_empty() || rule.near.iter().any(|n| n.find(around).is_some());
                if near_ok {
                    let value = window.get(accepted.value.clone()).unwrap_or_default();
                    let finding = Finding {
                        rule,
                        offset: self.base + (accepted.value.start + window_start) as u64,
                        value: value.to_vec(),
                        name: name
                            .and_then(|(s, e)| data.get(s..e))
                            .map(|n| escape_printable(n, super::details::DETAIL_MAX)),
                        details: accepted.details,
                        low_confidence: accepted.low_confidence,
                    };
                    self.held.push(Held {
                        finding,
                        beaten: false,
                    });
                }
            }
            resume = self.base + next as u64;
        }
        let new_state = if complete {
            RuleState {
                resume: resume.max(region.last_hit + 1),
                region: None,
            }
        } else {
            let resume = resume.max(limit.saturating_add(1));
            RuleState {
                resume,
                region: Some(Region {
                    start: region.start.max(resume),
                    ..region
                }),
            }
        };
        if let Some(state) = self.states.get_mut(rule.index) {
            *state = new_state;
        }
    }

    /// Position of absolute offset `at` in the buffer (clamped to the buffer).
    fn rel(&self, at: u64) -> usize {
        usize::try_from(at.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.filled)
    }

    /// No finding judged later can start before this offset.
    fn horizon(&self) -> u64 {
        self.rules
            .rules()
            .iter()
            .zip(&self.states)
            .map(|(rule, state)| match state.region {
                Some(region) => region.start.max(state.resume),
                None => self
                    .anchors_done
                    .saturating_sub(rule.anchor_lead as u64)
                    .max(state.resume),
            })
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Hands the held findings that end at or before `horizon` to the sink, in offset order,
    /// leaving out those an overlapping finding beats.
    ///
    /// Overlaps are found by a sweep over the held findings sorted by offset, comparing each
    /// with the findings still open at its offset (a handful: one rule's findings never
    /// overlap), so the work grows with the number held, not with its square.
    fn release<S>(&mut self, horizon: u64, sink: &mut S) -> bool
    where
        S: FindingSink<'r> + ?Sized,
    {
        self.held
            .sort_by_key(|h| (h.finding.offset, h.finding.end(), h.finding.rule.index));
        let mut open: Vec<usize> = Vec::new();
        for i in 0..self.held.len() {
            let Some(offset) = self.held.get(i).map(|h| h.finding.offset) else {
                break;
            };
            open.retain(|&j| self.held.get(j).is_some_and(|h| h.finding.end() > offset));
            for &j in &open {
                let (Some(earlier), Some(this)) = (self.held.get(j), self.held.get(i)) else {
                    continue;
                };
                let (this_loses, earlier_loses) = (
                    beats(&earlier.finding, &this.finding),
                    beats(&this.finding, &earlier.finding),
                );
                if let Some(h) = self.held.get_mut(i) {
                    h.beaten |= this_loses;
                }
                if let Some(h) = self.held.get_mut(j) {
                    h.beaten |= earlier_loses;
                }
            }
            open.push(i);
        }
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| h.finding.end() <= horizon);
        self.held = waiting;
        for held in ready {
            if !held.beaten && !sink.found(held.finding) {
                self.stopped = true;
                return false;
            }
        }
        true
    }

    /// Moves the bytes still needed to the front of the buffer.
    fn make_room(&mut self) {
        let mut keep_from = self.anchors_done.saturating_sub(self.rules.max_lead as u64);
        for (rule, state) in self.rules.rules().iter().zip(&self.states) {
            if let Some(region) = state.region {
                let from = region.start.max(state.resume);
                keep_from = keep_from.min(from.saturating_sub(rule.within as u64 + 1));
            }
        }
        let cut = self.rel(keep_from.max(self.base));
        self.buf.copy_within(cut..self.filled, 0);
        self.filled -= cut;
        self.base += cut as u64;
    }
}

/// The order of overlapping findings: confident before low confidence, then priority, then
/// earlier offset, then earlier rule.
fn beats(a: &Finding<'_>, b: &Finding<'_>) -> bool {
    let key = |f: &Finding<'_>| {
        (
            f.low_confidence.is_none(),
            f.rule.priority,
            std::cmp::Reverse(f.offset),
            std::cmp::Reverse(f.rule.index),
        )
    };
    key(a) > key(b)
}
