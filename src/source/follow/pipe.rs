//! Named pipes (FIFOs) given by name: read as a stream, without blocking. A pipe is opened for
//! reading at once (non-blocking, so that opening does not wait for a writer); while no writer
//! has it open, reading gives end-of-file and the follower says it is waiting for one; a writer
//! that closes the pipe ends its last line, and the next writer is waited for.

use super::budget::Handle;
use super::splitter::Splitter;
use super::{FollowItem, Follower, NoticeKind, READ_BUDGET, State, notice_item};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A named pipe being read.
#[derive(Debug)]
pub(super) struct Pipe {
    file: Handle,
    pub(super) dev: u64,
    pub(super) ino: u64,
    /// Bytes read so far (the offsets of its lines).
    offset: u64,
    splitter: Splitter,
    /// A writer has the pipe open (data or "would block" was seen since the last end-of-file).
    writer: bool,
    /// The notice that no writer has the pipe open was given.
    told_waiting: bool,
}

/// Opens a named pipe for reading without waiting for a writer.
pub(super) fn open_pipe(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

impl Follower {
    /// Starts reading the named pipe at the name of slot `i`.
    pub(super) fn attach_pipe(&mut self, i: usize, identity: (u64, u64), items: &mut Vec<FollowItem>) {
        let path = self.slots[i].path.clone();
        self.make_room();
        let file = match open_pipe(&path) {
            Ok(file) => self.descriptors.count(file),
            Err(e) => return self.error_once(i, format!("cannot open the named pipe: {e}"), items),
        };
        let slot = &mut self.slots[i];
        slot.last_error = None;
        slot.waiting = false;
        slot.state = State::Pipe(Box::new(Pipe {
            file,
            dev: identity.0,
            ino: identity.1,
            offset: 0,
            splitter: Splitter::default(),
            writer: false,
            told_waiting: false,
        }));
    }

    /// Reads what writers have put into the pipe of slot `i` (at most a poll's budget).
    pub(super) fn read_pipe(&mut self, i: usize, items: &mut Vec<FollowItem>) {
        let max_line = self.options.max_line;
        let path = self.slots[i].path.clone();
        let State::Pipe(pipe) = &mut self.slots[i].state else { return };
        let mut pieces = Vec::new();
        let mut notices = Vec::new();
        let mut problem = None;
        let mut chunk = vec![0u8; 64 * 1024];
        let mut read = 0u64;
        let mut more = false;
        loop {
            if read >= READ_BUDGET {
                more = true;
                break;
            }
            match (&*pipe.file).read(&mut chunk) {
                Ok(0) => {
                    if pipe.writer {
                        pipe.writer = false;
                        pipe.splitter.flush(&mut pieces);
                        notices.push((NoticeKind::Waiting, "the writer closed the named pipe; waiting for another"));
                    } else if !pipe.told_waiting {
                        notices.push((NoticeKind::Waiting, "is a named pipe with no writer; waiting for one"));
                    }
                    pipe.told_waiting = true;
                    break;
                }
                Ok(n) => {
                    if !pipe.writer && pipe.told_waiting {
                        notices.push((NoticeKind::Appeared, "a writer opened the named pipe; following it"));
                    }
                    pipe.writer = true;
                    pipe.told_waiting = false;
                    pipe.splitter.feed(&chunk[..n], pipe.offset, max_line, &mut pieces);
                    pipe.offset += n as u64;
                    read += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if !pipe.writer && pipe.told_waiting {
                        notices.push((NoticeKind::Appeared, "a writer opened the named pipe; following it"));
                    }
                    pipe.writer = true;
                    pipe.told_waiting = false;
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    problem = Some(format!("cannot read the named pipe: {e}"));
                    break;
                }
            }
        }
        // the order as it happened: lines before a writer closed, then the notice
        self.emit(i, pieces, items);
        for (kind, message) in notices {
            items.push(notice_item(&path, kind, message.to_string()));
        }
        if let Some(message) = problem {
            self.error_once(i, message, items);
        }
        if more {
            self.more_pending = true;
            self.slots[i].more = true;
        }
    }
}
