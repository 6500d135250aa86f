//! The music library: finding audio files, reading their tags and covers, and keeping the
//! catalog in step with the folders (incremental, parallel, bounded memory).

pub mod analysis;
pub mod cover;
pub mod demo;
pub mod probe;
pub mod scan;
pub mod text;

pub use probe::{probe_file, ProbeError};
pub use scan::{scan, ScanProgress, ScanReport};
