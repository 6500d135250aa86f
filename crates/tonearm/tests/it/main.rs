//! The `tonearm` integration tests, one binary: the real server and CLI on loopback, judged by
//! ffmpeg/ffprobe, a stock Socket.IO client, real Redis and PostgreSQL. One binary instead of one
//! per file: each would link the whole server again, which costs minutes and gigabytes in CI.

#![allow(dead_code)]

#[macro_use]
mod common;

mod analysis;
mod auth;
mod hls;
mod library;
mod limits;
mod ops;
mod rooms;
mod rooms_audio;
mod rooms_hostile;
mod startup;
mod streaming;
mod two_nodes;
mod upload;
mod web;
