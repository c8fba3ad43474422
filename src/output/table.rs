//! Tab-aligned tables like kubectl's: each column as wide as its widest cell plus three spaces
//! (at least six), the last column unpadded, headers in upper case.
//!
//! Every cell is escaped with [`escape_text`] as it is added (a cell already escaped by the layer
//! that made it, once: [`Cell::Escaped`]), so no cell can hold a control character: a newline in
//! a name can never forge a row.

use std::io::Write;

use super::escape::{escape_once, escape_text};
use super::{Error, Style};

/// A cell of a [`Table::row_cells`] row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text to escape.
    Text(String),
    /// Text already escaped (the secrets scanner's masked values and names): kept as it is
    /// unless it still holds a control character (see [`escape_once`]).
    Escaped(String),
}

/// Column padding of kubectl's tabwriter.
const PADDING: usize = 3;
/// Minimum cell width of kubectl's tabwriter (padding included).
const MIN_WIDTH: usize = 6;

/// A table being filled row by row, then written at once (column widths need every row).
#[derive(Debug, Default, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns never cut on a narrow terminal (names one types again: pods, times).
    whole: Vec<usize>,
    /// Columns left out on a terminal too narrow for them, the last listed first.
    optional: Vec<usize>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            whole: Vec::new(),
            optional: Vec::new(),
        }
    }

    /// Column `index` is never cut in the middle to fit a terminal (an identifier cut in two
    /// reads as another one); other columns give their room first.
    #[must_use]
    pub fn keep_whole(mut self, index: usize) -> Table {
        self.whole.push(index);
        self
    }

    /// Column `index` is left out when the terminal is too narrow for the table; the columns
    /// marked last go first. Cutting columns comes after.
    #[must_use]
    pub fn optional(mut self, index: usize) -> Table {
        self.optional.push(index);
        self
    }

    /// This table without column `index`.
    fn without(&self, index: usize) -> Table {
        let drop_cell = |cells: &Vec<String>| -> Vec<String> {
            cells
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, c)| c.clone())
                .collect()
        };
        let shift = |columns: &[usize]| -> Vec<usize> {
            columns
                .iter()
                .filter(|c| **c != index)
                .map(|&c| if c > index { c - 1 } else { c })
                .collect()
        };
        Table {
            header: drop_cell(&self.header),
            rows: self.rows.iter().map(drop_cell).collect(),
            whole: shift(&self.whole),
            optional: shift(&self.optional),
        }
    }

    /// Appends a row, escaping each cell for the terminal; missing cells are empty, extra
    /// cells are kept.
    pub fn row(&mut self, cells: Vec<String>) {
        self.row_cells(cells.into_iter().map(Cell::Text).collect());
    }

    /// Appends a row of cells, each escaped as its kind says.
    pub fn row_cells(&mut self, cells: Vec<Cell>) {
        let cells = cells
            .into_iter()
            .map(|cell| {
                let (text, shown) = match &cell {
                    Cell::Text(text) => (text, escape_text(text)),
                    Cell::Escaped(text) => (text, escape_once(text)),
                };
                match shown {
                    std::borrow::Cow::Borrowed(_) => text.clone(),
                    std::borrow::Cow::Owned(escaped) => escaped,
                }
            })
            .collect();
        self.rows.push(cells);
    }

    /// True when no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the header (bold when `style.color`) and the rows. On a terminal
    /// (`style.width`), the widest columns are narrowed until a line fits, and cells longer than
    /// their column are cut in the middle (`…`); off a terminal nothing is cut.
    pub fn render(&self, style: Style, out: &mut dyn Write) -> Result<(), Error> {
        if let Some(limit) = style.width {
            if line_len(&self.widths()) > limit {
                if let Some(&last) = self.optional.last() {
                    return self.without(last).render(style, out);
                }
            }
        }
        let mut widths = self.widths();
        if let Some(limit) = style.width {
            self.fit(&mut widths, limit);
        }
        let header = format_line(&self.header, &widths);
        if style.color {
            writeln!(out, "\x1b[1m{header}\x1b[0m")?;
        } else {
            writeln!(out, "{header}")?;
        }
        for row in &self.rows {
            writeln!(out, "{}", format_line(row, &widths))?;
        }
        Ok(())
    }

    /// The lines of a table printed in parts as its rows arrive (kubectl's `get --watch`):
    /// `widths` holds the widths of the parts printed before and grows with this one; the
    /// header comes first when `header`. A later part may widen a column, never narrow one.
    pub fn lines_continued(&self, widths: &mut Vec<usize>, header: bool) -> Vec<String> {
        let own = self.widths();
        if widths.len() < own.len() {
            widths.resize(own.len(), 0);
        }
        for (width, own) in widths.iter_mut().zip(own) {
            *width = (*width).max(own);
        }
        let mut lines = Vec::with_capacity(self.rows.len() + 1);
        if header {
            lines.push(format_line(&self.header, widths));
        }
        lines.extend(self.rows.iter().map(|row| format_line(row, widths)));
        lines
    }

    /// The length of the longest line this table would print, uncut.
    pub fn line_width(&self) -> usize {
        line_len(&self.widths())
    }

    /// The rows as aligned lines, without the header (for lists of choices).
    pub fn row_lines(&self) -> Vec<String> {
        let widths = self.widths();
        self.rows
            .iter()
            .map(|row| format_line(row, &widths))
            .collect()
    }

    /// Narrows the widest columns (never below their header, nor below [`NARROWEST`], never one
    /// to keep whole) until a line is at most `limit` characters long, or no column can give
    /// more.
    fn fit(&self, widths: &mut [usize], limit: usize) {
        loop {
            let total = line_len(widths);
            if total <= limit {
                return;
            }
            let Some((index, &width)) = widths
                .iter()
                .enumerate()
                .filter(|(index, _)| !self.whole.contains(index))
                .max_by_key(|(_, w)| **w)
            else {
                return;
            };
            let floor = self
                .header
                .get(index)
                .map_or(0, |h| h.chars().count())
                .max(NARROWEST);
            if width <= floor {
                return;
            }
            if let Some(slot) = widths.get_mut(index) {
                *slot = width.saturating_sub(total - limit).max(floor);
            }
        }
    }

    /// Each column's widest cell, header included.
    fn widths(&self) -> Vec<usize> {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain(std::iter::once(self.header.len()))
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for line in std::iter::once(&self.header).chain(self.rows.iter()) {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        widths
    }
}

/// The narrowest a column is cut to on a narrow terminal.
const NARROWEST: usize = 8;

/// The length of a line whose columns have these widths.
fn line_len(widths: &[usize]) -> usize {
    let last = widths.len().saturating_sub(1);
    widths
        .iter()
        .enumerate()
        .map(|(index, width)| {
            if index < last {
                (width + PADDING).max(MIN_WIDTH)
            } else {
                *width
            }
        })
        .sum()
}

/// One line: every cell but the last padded to its column's width; a cell longer than its
/// column is cut in the middle.
fn format_line(cells: &[String], widths: &[usize]) -> String {
    let mut line = String::new();
    let last = widths.len().saturating_sub(1);
    for (index, width) in widths.iter().enumerate() {
        let cell = cells.get(index).map(String::as_str).unwrap_or("");
        let cut;
        let cell = if cell.chars().count() > *width {
            cut = super::shorten_middle(cell, *width);
            cut.as_str()
        } else {
            cell
        };
        line.push_str(cell);
        if index < last {
            let target = (width + PADDING).max(MIN_WIDTH);
            let used = cell.chars().count();
            line.extend(std::iter::repeat_n(' ', target.saturating_sub(used)));
        }
    }
    line.truncate(line.trim_end().len());
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(table: &Table) -> String {
        let mut out = Vec::new();
        table
            .render(Style::default(), &mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("tables are UTF-8")
    }

    #[test]
    fn columns_are_padded_like_kubectl() {
        let mut table = Table::new(&["NAME", "PID"]);
        table.row(vec!["python3".into(), "24390".into()]);
        table.row(vec!["a".into(), "1".into()]);
        assert_eq!(
            rendered(&table),
            "NAME      PID\npython3   24390\na         1\n"
        );
    }

    #[test]
    fn names_stay_whole_and_optional_columns_go_first() {
        let mut table = Table::new(&["CHECKPOINT", "POD", "EXTRA", "TIME"])
            .keep_whole(1)
            .keep_whole(3)
            .optional(2);
        table.row(vec![
            format!("/srv/{}/a.tar", "x".repeat(40)),
            "counters-857d7978fd-jnkck".into(),
            "something long enough".into(),
            "2023-08-24 11:24:18".into(),
        ]);
        let mut out = Vec::new();
        table
            .render(
                Style {
                    width: Some(70),
                    ..Style::default()
                },
                &mut out,
            )
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("EXTRA"), "{text}");
        assert!(
            text.contains("counters-857d7978fd-jnkck   2023-08-24 11:24:18"),
            "{text}"
        );
        assert!(text.contains('…'), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 70), "{text}");
        // Wide enough: nothing dropped, nothing cut.
        let mut out = Vec::new();
        table.render(Style::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("EXTRA") && !text.contains('…'), "{text}");
    }

    #[test]
    fn a_table_in_parts_keeps_its_columns() {
        let mut first = Table::new(&["NAME", "NODE"]);
        first.row(vec!["web-1".into(), "node-a".into()]);
        let mut widths = Vec::new();
        let lines = first.lines_continued(&mut widths, true);
        assert_eq!(lines, ["NAME    NODE", "web-1   node-a"]);
        let mut second = Table::new(&["NAME", "NODE"]);
        second.row(vec!["a".into(), "node-b".into()]);
        assert_eq!(
            second.lines_continued(&mut widths, false),
            ["a       node-b"]
        );
        assert_eq!(first.line_width(), 14);
    }

    #[test]
    fn long_cells_are_cut_to_the_terminal_only() {
        let mut table = Table::new(&["PID", "PATH"]);
        table.row(vec![
            "1".into(),
            format!("/srv/{}/file.txt", "x".repeat(100)),
        ]);
        let narrow = Style {
            width: Some(40),
            ..Style::default()
        };
        let mut out = Vec::new();
        table.render(narrow, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= 40, "{line}");
        }
        assert!(text.contains("/srv/xx") && text.contains("…") && text.contains("file.txt"));
        assert!(
            rendered(&table).contains(&"x".repeat(100)),
            "piped: nothing cut"
        );
    }

    #[test]
    fn row_lines_align_the_rows_without_the_header() {
        let mut table = Table::default();
        table.row(vec!["web-1".into(), "node-a".into(), "app".into()]);
        table.row(vec!["database-0".into(), "n".into(), "db".into()]);
        assert_eq!(
            table.row_lines(),
            ["web-1        node-a   app", "database-0   n        db"]
        );
    }

    #[test]
    fn short_columns_get_the_minimum_width() {
        let mut table = Table::new(&["A", "B"]);
        table.row(vec!["x".into(), "y".into()]);
        assert_eq!(rendered(&table), "A     B\nx     y\n");
    }

    #[test]
    fn missing_cells_are_empty_and_trailing_space_is_trimmed() {
        let mut table = Table::new(&["A", "B", "C"]);
        table.row(vec!["1".into()]);
        assert_eq!(rendered(&table), "A     B     C\n1\n");
    }

    #[test]
    fn cells_are_escaped_so_no_row_is_forged() {
        let mut table = Table::new(&["NAME", "PID"]);
        table.row(vec!["evil\n1     2\x1b]0;x\x07".into(), "7".into()]);
        assert_eq!(
            rendered(&table),
            "NAME                        PID\nevil\\n1     2\\x1b]0;x\\x07   7\n"
        );
    }

    #[test]
    fn color_makes_the_header_bold() {
        let table = Table::new(&["A"]);
        let mut out = Vec::new();
        table
            .render(
                Style {
                    color: true,
                    glyphs: true,
                    width: None,
                },
                &mut out,
            )
            .expect("writing to a Vec cannot fail");
        assert_eq!(out, b"\x1b[1mA\x1b[0m\n");
    }
}
