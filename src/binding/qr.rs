//! QR codes as PNG images.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border around the code, as the QR standard asks.
const QUIET_ZONE: usize = 4;

/// A PNG of a QR code of `text`, about `size` pixels wide (never smaller
/// than one pixel per module), black on white, 8-bit greyscale.
pub fn png(text: &str, size: u32) -> Result<Vec<u8>, String> {
    let qr = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| format!("cannot make a QR code of this text: {e}"))?;
    let modules = qr.width();
    let colors = qr.to_colors();
    let side = modules + 2 * QUIET_ZONE;
    let scale = (size as usize / side).max(1);
    let pixels = side * scale;
    let mut image = vec![255u8; pixels * pixels];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * scale..(my + 1) * scale {
            image[y * pixels + mx * scale..y * pixels + (mx + 1) * scale].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, pixels as u32, pixels as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&image).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_a_png_of_about_the_size() {
        let bytes = super::png("https://t.me/bot?start=bind-abc", 300).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().unwrap();
        let width = reader.info().width;
        assert!((200..=300).contains(&width), "{width}");
    }
}
