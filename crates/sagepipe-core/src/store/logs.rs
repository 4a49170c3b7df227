//! Step logs are capped: a step printing without end keeps the start of its log and its latest
//! output, with a line saying how much was dropped in between, instead of filling the disk.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// How big a log may grow, and what is kept of it when it grows past that.
#[derive(Debug, Clone, Copy)]
pub struct LogCap {
    /// A log longer than this is cut.
    pub max: u64,
    /// Bytes kept from the start (where a job says what it does).
    pub head: u64,
    /// Bytes kept from the end (where a job says how it ended).
    pub tail: u64,
}

const MIB: u64 = 1024 * 1024;

/// The cap of step logs: 32 MiB, cut down to the first 4 and the last 16 MiB.
pub const STEP_LOG_CAP: LogCap = LogCap {
    max: 32 * MIB,
    head: 4 * MIB,
    tail: 16 * MIB,
};

/// How the note in a cut log starts; the number of bytes dropped so far follows it.
const NOTE_START: &str = "\n[sagepipe] log capped: ";

fn note(dropped: u64, cap: &LogCap) -> String {
    format!(
        "{NOTE_START}{dropped} bytes dropped here (a step log keeps its first {} and its last {} bytes once it \
         passes {} bytes)\n",
        cap.head, cap.tail, cap.max
    )
}

/// The bytes an earlier cut dropped and the length of its note, if the log has one after its head.
fn earlier_cut(f: &File, cap: &LogCap) -> io::Result<(u64, u64)> {
    let mut buf = vec![0u8; 512];
    let n = f.read_at(&mut buf, cap.head)?;
    let text = String::from_utf8_lossy(&buf[..n]);
    let Some(rest) = text.strip_prefix(NOTE_START) else {
        return Ok((0, 0));
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(dropped) = digits.parse::<u64>() else {
        return Ok((0, 0));
    };
    let note_len = note(dropped, cap).len() as u64;
    Ok((dropped, note_len))
}

/// What cuts took out of the log at `path`: the bytes dropped and the length of the note in
/// their place (0, 0 for a log never cut).
fn cut_of(path: &Path, cap: &LogCap) -> (u64, u64) {
    File::open(path).and_then(|f| earlier_cut(&f, cap)).unwrap_or((0, 0))
}

/// The log's length counting what cuts dropped: an offset that stays valid across cuts.
pub fn logical_len(path: &Path, cap: &LogCap) -> u64 {
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    let (dropped, note_len) = cut_of(path, cap);
    (len + dropped).saturating_sub(note_len)
}

/// Where the byte at `logical` (an offset counting what cuts dropped) is in the file now; for a
/// byte a cut dropped, where the kept output after it starts.
pub fn physical_offset(path: &Path, cap: &LogCap, logical: u64) -> u64 {
    let (dropped, note_len) = cut_of(path, cap);
    if dropped == 0 || logical <= cap.head {
        logical
    } else if logical < cap.head + dropped {
        cap.head + note_len
    } else {
        (logical + note_len).saturating_sub(dropped)
    }
}

/// Cut the log at `path` to `cap` if it is longer: keep its head and tail, with a note between
/// them saying how many bytes were dropped (counting earlier cuts). Writers that append to the
/// log meanwhile keep appending after the kept tail. Returns whether the log was cut.
pub fn cap_log(path: &Path, cap: &LogCap) -> io::Result<bool> {
    let f = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let mut len = f.metadata()?.len();
    if len <= cap.max || cap.max < cap.head + cap.tail + 1024 {
        return Ok(false);
    }
    let (earlier, earlier_note) = earlier_cut(&f, cap)?;
    let tail_from = len - cap.tail;
    let dropped = earlier + tail_from.saturating_sub(cap.head + earlier_note);
    let note = note(dropped, cap);
    // Write note and tail over the dropped middle (it ends before the tail, as `max` leaves
    // room), then cut the file after them. What writers append meanwhile is moved along.
    let mut tail = vec![0u8; cap.tail as usize];
    f.read_exact_at(&mut tail, tail_from)?;
    let mut end = cap.head;
    f.write_all_at(note.as_bytes(), end)?;
    end += note.len() as u64;
    f.write_all_at(&tail, end)?;
    end += tail.len() as u64;
    drop(tail);
    loop {
        let now = f.metadata()?.len();
        if now <= len {
            break;
        }
        let mut appended = vec![0u8; (now - len) as usize];
        f.read_exact_at(&mut appended, len)?;
        f.write_all_at(&appended, end)?;
        end += appended.len() as u64;
        len = now;
    }
    f.set_len(end)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const SMALL: LogCap = LogCap {
        max: 4096,
        head: 1000,
        tail: 2000,
    };

    fn lines(from: usize, to: usize) -> String {
        (from..to).map(|i| format!("line {i:05}\n")).collect()
    }

    #[test]
    fn offsets_taken_before_a_cut_still_find_their_bytes() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("step.log");
        let first = lines(0, 600); // an earlier attempt: 6 600 bytes
        fs::write(&path, &first).expect("write");
        let start = logical_len(&path, &SMALL);
        assert_eq!(start, first.len() as u64);
        let second = lines(600, 700); // this attempt: 1 100 bytes, all within the kept tail
        fs::write(&path, format!("{first}{second}")).expect("append");
        assert!(cap_log(&path, &SMALL).expect("cap"));
        let from = physical_offset(&path, &SMALL, start);
        let now = fs::read(&path).expect("read");
        assert_eq!(&now[from as usize..], second.as_bytes());
        assert_eq!(logical_len(&path, &SMALL), (first.len() + second.len()) as u64);
        // An offset inside what was dropped reads from the start of the kept tail.
        let all = format!("{first}{second}");
        let dropped_at = physical_offset(&path, &SMALL, SMALL.head + 10);
        assert_eq!(
            &now[dropped_at as usize..],
            &all.as_bytes()[all.len() - SMALL.tail as usize..]
        );
        // Offsets in the head are where they were.
        assert_eq!(physical_offset(&path, &SMALL, 100), 100);
    }

    #[test]
    fn a_long_log_keeps_its_head_and_tail_and_says_what_was_dropped() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("step.log");
        let text = lines(0, 1000); // 11 000 bytes
        fs::write(&path, &text).expect("write");
        assert!(cap_log(&path, &SMALL).expect("cap"));
        let capped = fs::read_to_string(&path).expect("read");
        assert!(capped.len() as u64 <= SMALL.max);
        assert!(capped.starts_with(&text[..1000]));
        assert!(capped.ends_with(&text[text.len() - 2000..]));
        let dropped = text.len() - 3000;
        assert!(
            capped.contains(&format!("[sagepipe] log capped: {dropped} bytes dropped here")),
            "{capped}"
        );

        // It grows again and is cut again: the count adds up, one note only.
        let more = lines(1000, 1500);
        fs::write(&path, format!("{capped}{more}")).expect("append");
        assert!(cap_log(&path, &SMALL).expect("cap"));
        let again = fs::read_to_string(&path).expect("read");
        assert_eq!(again.matches("[sagepipe] log capped").count(), 1);
        let all = format!("{text}{more}");
        assert!(again.starts_with(&all[..1000]) && again.ends_with(&all[all.len() - 2000..]));
        let total = all.len() - 3000;
        assert!(again.contains(&format!("capped: {total} bytes dropped")), "{again}");
    }

    #[test]
    fn a_short_or_missing_log_is_left_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("step.log");
        assert!(!cap_log(&path, &SMALL).expect("missing"));
        fs::write(&path, lines(0, 10)).expect("write");
        assert!(!cap_log(&path, &SMALL).expect("short"));
        assert_eq!(fs::read_to_string(&path).expect("read"), lines(0, 10));
    }
}
