//! Embeds `assets/` in the binary: every file as is, gzip and brotli (text files), all
//! compressed here so a cold start does no compression work. The asset tree gets one version,
//! a hash of every file, so its URLs (`/assets/<version>/...`) can be cached forever and ES
//! modules keep importing each other by relative path. `index.html` names the version
//! (`{{ASSETS}}` in the source).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

fn files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("assets directory") {
        let path = entry.expect("directory entry").path();
        // Editors' and systems' droppings (.x.swp, x~, .DS_Store) are not assets.
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        if path.is_dir() {
            files(&path, into);
        } else {
            into.push(path);
        }
    }
}

fn content_type(path: &str) -> (&'static str, bool) {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => ("text/html; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", true),
        "js" => ("text/javascript; charset=utf-8", true),
        "svg" => ("image/svg+xml", true),
        "json" | "webmanifest" => ("application/json", true),
        "png" => ("image/png", false),
        "ico" => ("image/x-icon", false),
        other => panic!("assets/{path}: no content type for .{other}: add it to build.rs"),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap();
    out
}

fn main() {
    // Read when the script runs, not baked in when it compiles: one compiled script may serve
    // two checkouts sharing a target dir.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("assets");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut paths = Vec::new();
    files(&root, &mut paths);
    paths.sort();
    let mut sources = Vec::new();
    let mut hasher = Sha256::new();
    for path in &paths {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.strip_prefix(&root).unwrap().to_str().expect("UTF-8 asset names").replace('\\', "/");
        let bytes = std::fs::read(path).unwrap();
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
        sources.push((name, bytes));
    }
    let version = hasher.finalize().iter().take(6).fold(String::new(), |mut hex, byte| {
        write!(hex, "{byte:02x}").unwrap();
        hex
    });
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut code = format!(
        "/// The asset tree's version: part of every asset URL.\npub const VERSION: &str = {version:?};\n\npub static ASSETS: &[Asset] = &[\n"
    );
    for (index, (name, bytes)) in sources.into_iter().enumerate() {
        let bytes = if name == "index.html" {
            let text = String::from_utf8(bytes).expect("index.html is UTF-8");
            assert!(text.contains("{{ASSETS}}"), "index.html must load its assets from {{{{ASSETS}}}}");
            text.replace("{{ASSETS}}", &format!("/assets/{version}")).into_bytes()
        } else {
            bytes
        };
        let (kind, text) = content_type(&name);
        let file = |suffix: &str, content: &[u8]| {
            let path = out.join(format!("asset-{index}{suffix}"));
            std::fs::write(&path, content).unwrap();
            format!("include_bytes!({:?})", path.display().to_string())
        };
        let identity = file("", &bytes);
        let (gzip, brotli) = if text {
            (format!("Some({})", file(".gz", &gzip(&bytes))), format!("Some({})", file(".br", &brotli(&bytes))))
        } else {
            ("None".to_owned(), "None".to_owned())
        };
        writeln!(code, "    Asset {{ path: {name:?}, content_type: {kind:?}, identity: {identity}, gzip: {gzip}, brotli: {brotli} }},")
            .unwrap();
    }
    code.push_str("];\n");
    std::fs::write(out.join("assets.rs"), code).unwrap();
}
