//! Runs the plugin on a pseudo-terminal, to drive its interactive picks the way a person does:
//! wait for a prompt to appear, type keys, read what was drawn.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a prompt or the end of the run may take.
const WAIT: Duration = Duration::from_secs(60);

/// A child whose stdin, stdout and stderr are one pseudo-terminal.
pub struct Terminal {
    child: Child,
    keys: File,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// Opens a new pseudo-terminal of 40 rows and `columns` columns: (master, slave).
fn open_pty(columns: u16) -> (OwnedFd, OwnedFd) {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(std::ffi::OsStr::from_bytes(name.as_bytes()))
        .unwrap();
    let size = rustix::termios::Winsize {
        ws_row: 40,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(&master, size).unwrap();
    (master, OwnedFd::from(slave))
}

impl Terminal {
    /// Starts `command` with all three standard streams on a new pseudo-terminal of 160
    /// columns.
    pub fn spawn(command: Command) -> Terminal {
        Terminal::spawn_sized(command, 160)
    }

    /// Starts `command` on a new pseudo-terminal of `columns` columns (`COLUMNS` unset, so the
    /// program asks the terminal).
    pub fn spawn_sized(mut command: Command, columns: u16) -> Terminal {
        command.env_remove("COLUMNS");
        let (master, slave) = open_pty(columns);
        let slave = File::from(slave);
        command
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        let child = command.spawn().unwrap();
        // Our copies of the terminal's slave side close here, so the reader sees the end.
        drop(command);
        let master = File::from(master);
        let keys = master.try_clone().unwrap();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&screen);
        let reader = std::thread::spawn(move || {
            let mut master = master;
            let mut buf = [0u8; 4096];
            // Linux answers EIO once the child and its descendants closed the terminal.
            while let Ok(n @ 1..) = master.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Terminal {
            child,
            keys,
            screen,
            reader: Some(reader),
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Everything drawn so far, escape sequences included.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until `text` has been drawn; panics with the screen after a minute.
    pub fn wait_for(&mut self, text: &str) {
        let started = Instant::now();
        while !self.screen().contains(text) {
            if started.elapsed() > WAIT || self.child.try_wait().unwrap().is_some() {
                let _ = self.child.kill();
                panic!(
                    "{text:?} never appeared; the terminal showed:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The prompt draws before it switches the terminal to raw mode to read a key.
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Types `keys` at once (e.g. `"\r"` for Enter, `"q"` to cancel).
    pub fn type_keys(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }

    /// Types each of `keys` in turn, as a person does (an arrow key is one of them:
    /// `"\x1b[B"` is Down), leaving the program time to read and redraw between them.
    pub fn press(&mut self, keys: &[&str]) {
        for key in keys {
            self.type_keys(key);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Waits for the end of the run; returns how it exited and the whole screen.
    pub fn finish(mut self) -> (ExitStatus, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > WAIT {
                let _ = self.child.kill();
                panic!(
                    "the run did not end; the terminal showed:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status, self.screen())
    }
}
