//! The job kinds, one module each: `loudness` (EBU R128, and measure-on-first-use for
//! streams), `analysis` (tempo, key, features, embedding) and `hls` (encrypted packages).

pub mod analysis;
pub mod hls;
pub mod loudness;
