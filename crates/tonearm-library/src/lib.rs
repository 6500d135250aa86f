//! tonearm-library
