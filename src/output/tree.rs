//! Indented trees: box-drawing glyphs on a terminal, plain four-space indentation otherwise.
//! Every label is escaped with [`escape_text`] as it is written (labels made of text a renderer
//! already escaped, such as a table's lines, once: [`escape_once`]): one node is always one line.

use std::borrow::Cow;
use std::io::Write;

use super::escape::{escape_once, escape_text};
use super::{Error, Style};

/// A labelled node with children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeNode {
    /// The text of this line.
    pub label: String,
    /// True when `label` is already escaped (a line of a [`super::Table`]).
    pub escaped: bool,
    /// Lines under it.
    pub children: Vec<TreeNode>,
}

impl TreeNode {
    /// A node without children.
    pub fn leaf(label: impl Into<String>) -> TreeNode {
        TreeNode::branch(label, Vec::new())
    }

    /// A node with children.
    pub fn branch(label: impl Into<String>, children: Vec<TreeNode>) -> TreeNode {
        TreeNode {
            label: label.into(),
            escaped: false,
            children,
        }
    }

    /// A node whose label is already escaped (see [`escape_once`]).
    pub fn escaped(label: impl Into<String>, children: Vec<TreeNode>) -> TreeNode {
        TreeNode {
            escaped: true,
            ..TreeNode::branch(label, children)
        }
    }

    /// The label as written.
    fn shown(&self) -> Cow<'_, str> {
        if self.escaped {
            escape_once(&self.label)
        } else {
            escape_text(&self.label)
        }
    }

    /// Writes the node (bold when `style.color`) and its subtree.
    pub fn render(&self, style: Style, out: &mut dyn Write) -> Result<(), Error> {
        if style.color {
            writeln!(out, "\x1b[1m{}\x1b[0m", self.shown())?;
        } else {
            writeln!(out, "{}", self.shown())?;
        }
        render_children(&self.children, "", style, out)
    }
}

fn render_children(
    children: &[TreeNode],
    prefix: &str,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let count = children.len();
    for (index, child) in children.iter().enumerate() {
        let last = index + 1 == count;
        let (branch, continuation) = match (style.glyphs, last) {
            (true, false) => ("├── ", "│   "),
            (true, true) => ("└── ", "    "),
            (false, _) => ("    ", "    "),
        };
        writeln!(out, "{prefix}{branch}{}", child.shown())?;
        render_children(
            &child.children,
            &format!("{prefix}{continuation}"),
            style,
            out,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TreeNode {
        TreeNode::branch(
            "root",
            vec![
                TreeNode::branch("a", vec![TreeNode::leaf("a1"), TreeNode::leaf("a2")]),
                TreeNode::leaf("b"),
            ],
        )
    }

    fn rendered(style: Style) -> String {
        let mut out = Vec::new();
        sample()
            .render(style, &mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("trees are UTF-8")
    }

    #[test]
    fn glyphs_on_a_terminal() {
        let style = Style {
            color: false,
            glyphs: true,
            width: None,
        };
        assert_eq!(
            rendered(style),
            "root\n├── a\n│   ├── a1\n│   └── a2\n└── b\n"
        );
    }

    #[test]
    fn labels_are_escaped() {
        let tree = TreeNode::branch("a\rb", vec![TreeNode::leaf("c\nd\u{9b}")]);
        let mut out = Vec::new();
        tree.render(Style::default(), &mut out)
            .expect("writing to a Vec cannot fail");
        assert_eq!(out, b"a\\rb\n    c\\nd\\u{009b}\n");
    }

    #[test]
    fn escaped_labels_are_escaped_once() {
        let tree = TreeNode::escaped(
            "a\\x1bb",
            vec![
                TreeNode::escaped("raw\x1b", Vec::new()),
                TreeNode::leaf("c\\d"),
            ],
        );
        let mut out = Vec::new();
        tree.render(Style::default(), &mut out)
            .expect("writing to a Vec cannot fail");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\x1bb\n    raw\\x1b\n    c\\\\d\n"
        );
    }

    #[test]
    fn plain_indentation_otherwise() {
        assert_eq!(
            rendered(Style::default()),
            "root\n    a\n        a1\n        a2\n    b\n"
        );
    }
}
