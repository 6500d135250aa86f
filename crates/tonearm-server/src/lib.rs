//! tonearm-server
