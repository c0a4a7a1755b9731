/**
 * The multipart framing of an MJPEG stream: vidgear WebGear's boundary and
 * part layout, with a space after `Content-Type:` (as µStreamer and
 * mjpg-streamer send it) and a Content-Length header, which lets clients read
 * a part without scanning it:
 * `--frame\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n\r\n<jpeg>\r\n`.
 *
 * vidgear writes `Content-Type:image/jpeg` without the space. GStreamer's
 * multipartdemux (1.22) then skips one byte too many and reads the type as
 * `mage/jpeg`, so `souphttpsrc ! multipartdemux ! jpegdec` fails with
 * "not-linked"; browsers, OpenCV, ffmpeg, VLC and vidgear-style readers accept
 * either form (test/conformance/ runs them).
 */
export const BOUNDARY = "frame";
export const MJPEG_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;

const encoder = new TextEncoder();
const TRAILER = encoder.encode("\r\n");

/** One part: built once per frame, written as is to every viewer. */
export function mjpegPart(jpeg: Uint8Array): Uint8Array {
  const head = encoder.encode(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.byteLength}\r\n\r\n`);
  const part = new Uint8Array(head.byteLength + jpeg.byteLength + TRAILER.byteLength);
  part.set(head, 0);
  part.set(jpeg, head.byteLength);
  part.set(TRAILER, head.byteLength + jpeg.byteLength);
  return part;
}
