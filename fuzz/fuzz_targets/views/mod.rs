//! The parts of the `checkpoint_views` target: building its input, checking the views.

pub mod build;
pub mod check;
