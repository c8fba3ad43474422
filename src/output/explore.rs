//! The crit `x` views as text, laid out exactly as CRIU's `crit x DIR ps|fds|mems|rss` prints them,
//! except that names from the checkpoint are escaped with [`escape_text`] (crit prints them raw).

use std::io::Write;

use super::escape::escape_text;
use super::Error;
use checkpoint_forensics::analyze::{ExploreReport, FdsProcess, MemsProcess, PsRow, RssProcess};

/// Writes `report` as crit prints the same view.
pub fn render_explore_text(report: &ExploreReport, out: &mut dyn Write) -> Result<(), Error> {
    match report {
        ExploreReport::Ps(rows) => render_ps(rows, out),
        ExploreReport::Fds(processes) => render_fds(processes, out),
        ExploreReport::Mems(processes) => render_mems(processes, out),
        ExploreReport::Rss(processes) => render_rss(processes, out),
    }
}

fn render_ps(rows: &[PsRow], out: &mut dyn Write) -> Result<(), Error> {
    writeln!(out, "{:>7}{:>7}{:>7}   COMM", "PID", "PGID", "SID")?;
    for row in rows {
        let indent = " ".repeat(4 * row.depth);
        writeln!(
            out,
            "{:>7}{:>7}{:>7}   {indent}{}",
            row.pid,
            row.pgid,
            row.sid,
            escape_text(&row.comm)
        )?;
    }
    Ok(())
}

fn render_fds(processes: &[FdsProcess], out: &mut dyn Write) -> Result<(), Error> {
    for process in processes {
        writeln!(out, "{}", process.pid)?;
        for row in &process.fds {
            writeln!(
                out,
                "\t{:>7}: {}",
                escape_text(&row.fd),
                escape_text(&row.file)
            )?;
        }
    }
    Ok(())
}

fn render_mems(processes: &[MemsProcess], out: &mut dyn Write) -> Result<(), Error> {
    for process in processes {
        writeln!(out, "{}", process.pid)?;
        writeln!(out, "\t{:<36}    {}", "exe", escape_text(&process.exe))?;
        for vma in &process.vmas {
            let range = format!("{:08x}-{:08x}", vma.start, vma.end);
            if vma.resource.is_empty() {
                writeln!(out, "\t{range:<36}{}", vma.prot)?;
            } else {
                writeln!(
                    out,
                    "\t{range:<36}{} {}",
                    vma.prot,
                    escape_text(&vma.resource)
                )?;
            }
        }
    }
    Ok(())
}

fn render_rss(processes: &[RssProcess], out: &mut dyn Write) -> Result<(), Error> {
    let continuation = format!("\n\t{:23}", "");
    for process in processes {
        writeln!(out, "{}", process.pid)?;
        for run in &process.runs {
            let head = format!("\t{:x} / {:<8}", run.vaddr, run.nr_pages);
            let mut vmas = String::new();
            for vma in &run.vmas {
                if vma.continued {
                    vmas.push_str(" ~");
                } else {
                    vmas.push_str(&format!(" {:08x} / {:<8}", vma.start, vma.nr_pages));
                    if let Some(file) = &vma.file {
                        vmas.push(' ');
                        vmas.push_str(&escape_text(file));
                    }
                }
                vmas.push_str(&continuation);
            }
            writeln!(out, "{head:<24}{vmas}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_forensics::analyze::{FdsRow, MemsVma, RssRun, RssVma};

    fn text(report: &ExploreReport) -> String {
        let mut out = Vec::new();
        render_explore_text(report, &mut out).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("crit views are UTF-8")
    }

    #[test]
    fn ps_indents_children_by_four() {
        let report = ExploreReport::Ps(vec![
            PsRow {
                pid: 24391,
                pgid: 24391,
                sid: 24391,
                depth: 0,
                comm: "tree.sh".into(),
            },
            PsRow {
                pid: 24393,
                pgid: 24391,
                sid: 24391,
                depth: 1,
                comm: "python3".into(),
            },
        ]);
        assert_eq!(
            text(&report),
            "    PID   PGID    SID   COMM\n  24391  24391  24391   tree.sh\n  24393  24391  24391       python3\n"
        );
    }

    #[test]
    fn fds_right_align_descriptors() {
        let report = ExploreReport::Fds(vec![FdsProcess {
            pid: 7,
            fds: vec![
                FdsRow {
                    fd: "3".into(),
                    file: "/srv/app/state.txt".into(),
                },
                FdsRow {
                    fd: "cwd".into(),
                    file: "/srv/app".into(),
                },
            ],
        }]);
        assert_eq!(
            text(&report),
            "7\n\t      3: /srv/app/state.txt\n\t    cwd: /srv/app\n"
        );
    }

    #[test]
    fn mems_pad_ranges_to_36() {
        let report = ExploreReport::Mems(vec![MemsProcess {
            pid: 1,
            exe: "/bin/sh".into(),
            vmas: vec![
                MemsVma {
                    start: 0x400000,
                    end: 0x41f000,
                    prot: "r--".into(),
                    resource: "/bin/sh".into(),
                },
                MemsVma {
                    start: 0xa85000,
                    end: 0xaca000,
                    prot: "rw-".into(),
                    resource: String::new(),
                },
            ],
        }]);
        assert_eq!(
            text(&report),
            "1\n\texe                                     /bin/sh\n\
             \t00400000-0041f000                   r-- /bin/sh\n\
             \t00a85000-00aca000                   rw-\n"
        );
    }

    #[test]
    fn rss_marks_continued_vmas_with_a_tilde() {
        let report = ExploreReport::Rss(vec![RssProcess {
            pid: 1,
            runs: vec![
                RssRun {
                    vaddr: 0x41f000,
                    nr_pages: 1,
                    vmas: vec![RssVma {
                        continued: false,
                        start: 0x41f000,
                        nr_pages: 691,
                        file: Some("/usr/bin/python3.11".into()),
                    }],
                },
                RssRun {
                    vaddr: 0x9a8000,
                    nr_pages: 75,
                    vmas: vec![RssVma {
                        continued: true,
                        start: 0x41f000,
                        nr_pages: 691,
                        file: None,
                    }],
                },
            ],
        }]);
        let pad = " ".repeat(23);
        assert_eq!(
            text(&report),
            format!(
                "1\n\t41f000 / 1              0041f000 / 691      /usr/bin/python3.11\n\t{pad}\n\
                 \t9a8000 / 75             ~\n\t{pad}\n"
            )
        );
    }
}
