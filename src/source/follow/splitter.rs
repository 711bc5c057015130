//! The line splitter: cuts a byte stream, fed in chunks as it arrives, into complete lines at
//! their offsets, holding a partial last line until its newline; an over-long line keeps its head
//! (cut on a UTF-8 boundary) and the rest is counted, not buffered. Used by the follower for plain
//! and compressed files; usable on its own by any reader of streams.

/// The marker put at the end of a truncated line, before its newline.
pub fn truncation_marker(skipped: u64) -> String {
    format!(" …[line truncated: {skipped} bytes skipped]")
}

/// A piece of output from the line splitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Contiguous complete lines starting at `offset`.
    Lines { offset: u64, bytes: Vec<u8> },
    /// The kept head of an over-long line starting at `offset`, and how many bytes were skipped.
    Truncated { offset: u64, head: Vec<u8>, skipped: u64 },
}

/// Runs the line splitter over `chunks` (one stream cut at arbitrary points) and checks what it
/// gives against the stream: every complete line once, in order, at its offset, byte for byte,
/// over-long lines cut to at most `max_line` bytes on a UTF-8 boundary with the rest counted.
/// For the fuzz target and the property test; `Err` says what broke.
#[doc(hidden)]
pub fn check_splitter(chunks: &[&[u8]], max_line: usize) -> Result<(), String> {
    let stream: Vec<u8> = chunks.concat();
    let out = split_chunks(chunks, max_line);
    let mut next = 0usize; // where the next line must start
    for piece in &out {
        match piece {
            Piece::Lines { offset, bytes } => {
                let at = *offset as usize;
                if at != next || stream.get(at..at + bytes.len()) != Some(bytes.as_slice()) {
                    return Err(format!("lines at {at} (expected {next}) differ from the stream"));
                }
                if bytes.last() != Some(&b'\n') || bytes.split(|&b| b == b'\n').any(|l| l.len() > max_line) {
                    return Err(format!("lines at {at}: not whole lines within the cap"));
                }
                next = at + bytes.len();
            }
            Piece::Truncated { offset, head, skipped } => {
                let at = *offset as usize;
                let end = at + head.len() + *skipped as usize;
                if at != next || head.len() > max_line || stream.get(at..at + head.len()) != Some(head.as_slice()) {
                    return Err(format!("truncated line at {at} (expected {next}): head differs or too long"));
                }
                if stream.get(end) != Some(&b'\n') || stream[at..end].contains(&b'\n') {
                    return Err(format!("truncated line at {at}: head + skipped is not the line"));
                }
                next = end + 1;
            }
        }
    }
    let complete = stream.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if next != complete {
        return Err(format!("complete lines end at {complete}, output ends at {next}"));
    }
    Ok(())
}

/// The splitter's output for one stream given as consecutive chunks.
fn split_chunks(chunks: &[&[u8]], max_line: usize) -> Vec<Piece> {
    let mut splitter = Splitter::default();
    let mut out = Vec::new();
    let mut offset = 0u64;
    for chunk in chunks {
        splitter.feed(chunk, offset, max_line, &mut out);
        offset += chunk.len() as u64;
    }
    out
}

/// Cuts a byte stream into complete lines, holding a partial last line until its newline arrives;
/// an over-long line keeps its first `max_line` bytes and the rest is counted, not buffered.
#[derive(Debug, Default)]
pub(crate) struct Splitter {
    /// The line not yet ended (at most `max_line` bytes of it).
    partial: Vec<u8>,
    /// Offset of `partial[0]`.
    partial_offset: u64,
    /// Bytes of the current line skipped so far; the line is over-long when this is non-zero.
    skipped: u64,
    /// Drop bytes up to the next newline (reading started in the middle of a line).
    pub(crate) discard: bool,
}

impl Splitter {
    pub(crate) fn feed(&mut self, mut data: &[u8], mut offset: u64, max_line: usize, out: &mut Vec<Piece>) {
        if self.discard {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.discard = false;
                    data = &data[i + 1..];
                    offset += (i + 1) as u64;
                }
                None => return,
            }
        }
        let mut run: Vec<u8> = Vec::new();
        let mut run_offset = 0u64;
        while let Some(i) = memchr::memchr(b'\n', data) {
            let open_line = !self.partial.is_empty() || self.skipped > 0;
            let line_offset = if open_line { self.partial_offset } else { offset };
            if self.skipped > 0 {
                self.skipped += i as u64;
                flush_run(&mut run, run_offset, out);
                out.push(Piece::Truncated {
                    offset: line_offset,
                    head: std::mem::take(&mut self.partial),
                    skipped: self.skipped,
                });
                self.skipped = 0;
            } else if self.partial.len() + i > max_line {
                let mut head = std::mem::take(&mut self.partial);
                let take = max_line.saturating_sub(head.len()).min(i);
                head.extend_from_slice(&data[..take]);
                let keep = utf8_boundary(&head);
                let skipped = (i - take + head.len() - keep) as u64;
                head.truncate(keep);
                flush_run(&mut run, run_offset, out);
                out.push(Piece::Truncated { offset: line_offset, head, skipped });
            } else {
                if run.is_empty() {
                    run_offset = line_offset;
                }
                run.append(&mut self.partial);
                run.extend_from_slice(&data[..=i]);
            }
            data = &data[i + 1..];
            offset += (i + 1) as u64;
        }
        flush_run(&mut run, run_offset, out);
        if data.is_empty() {
            return;
        }
        if self.skipped > 0 {
            self.skipped += data.len() as u64;
            return;
        }
        if self.partial.is_empty() {
            self.partial_offset = offset;
        }
        let room = max_line.saturating_sub(self.partial.len());
        if data.len() > room {
            self.partial.extend_from_slice(&data[..room]);
            let keep = utf8_boundary(&self.partial);
            self.skipped = (data.len() - room + self.partial.len() - keep) as u64;
            self.partial.truncate(keep);
        } else {
            self.partial.extend_from_slice(data);
        }
    }

    /// Hands on the partial last line as a line of its own (the file ended for good).
    pub(crate) fn flush(&mut self, out: &mut Vec<Piece>) {
        if self.skipped > 0 {
            out.push(Piece::Truncated {
                offset: self.partial_offset,
                head: std::mem::take(&mut self.partial),
                skipped: self.skipped,
            });
        } else if !self.partial.is_empty() {
            let mut bytes = std::mem::take(&mut self.partial);
            bytes.push(b'\n');
            out.push(Piece::Lines { offset: self.partial_offset, bytes });
        }
        *self = Splitter::default();
    }
}

fn flush_run(run: &mut Vec<u8>, offset: u64, out: &mut Vec<Piece>) {
    if !run.is_empty() {
        out.push(Piece::Lines { offset, bytes: std::mem::take(run) });
    }
}

/// Length of `bytes` without a UTF-8 sequence cut short at its end (so that a truncated line does
/// not end in half a character).
fn utf8_boundary(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=n.min(4) {
        let b = bytes[n - back];
        if b & 0xC0 != 0x80 {
            let need = match b {
                0xF8.. => 1,
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
            return if need > back { n - back } else { n };
        }
    }
    n
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max_line: usize) -> Vec<Piece> {
        split_chunks(chunks, max_line)
    }

    #[test]
    fn partial_lines_are_held_until_their_newline() {
        let out = split(&[b"ab", b"c\nde", b"f\ng"], 100);
        assert_eq!(
            out,
            vec![
                Piece::Lines { offset: 0, bytes: b"abc\n".to_vec() },
                Piece::Lines { offset: 4, bytes: b"def\n".to_vec() }
            ]
        );
    }

    #[test]
    fn long_lines_keep_their_head_and_count_the_rest() {
        let out = split(&[b"0123", b"456789", b"abc\nok\n"], 5);
        assert_eq!(
            out,
            vec![
                Piece::Truncated { offset: 0, head: b"01234".to_vec(), skipped: 8 },
                Piece::Lines { offset: 14, bytes: b"ok\n".to_vec() }
            ]
        );
        // a line of exactly max_line bytes is whole
        assert_eq!(split(&[b"01234\n"], 5), vec![Piece::Lines { offset: 0, bytes: b"01234\n".to_vec() }]);
    }

    #[test]
    fn truncation_does_not_cut_a_character() {
        let out = split(&["aé€x\n".as_bytes()], 4);
        // 'a' (1) + 'é' (2) + '€' (3): keeping 4 bytes would cut '€'
        assert_eq!(out, vec![Piece::Truncated { offset: 0, head: "aé".as_bytes().to_vec(), skipped: 4 }]);
        assert_eq!(utf8_boundary("€".as_bytes()), 3);
        assert_eq!(utf8_boundary(&"€".as_bytes()[..2]), 0);
        assert_eq!(utf8_boundary(b"\xff\xfe"), 2);
    }

    #[test]
    pub(crate) fn flush_hands_on_the_partial_line() {
        let mut splitter = Splitter::default();
        let mut out = Vec::new();
        splitter.feed(b"x\ntail", 10, 100, &mut out);
        splitter.flush(&mut out);
        assert_eq!(
            out,
            vec![
                Piece::Lines { offset: 10, bytes: b"x\n".to_vec() },
                Piece::Lines { offset: 12, bytes: b"tail\n".to_vec() }
            ]
        );
    }
}
