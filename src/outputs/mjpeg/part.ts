/**
 * The multipart framing of an MJPEG stream, byte-compatible with vidgear's
 * WebGear (`--frame\r\nContent-Type:image/jpeg\r\n\r\n<jpeg>\r\n`) plus a
 * Content-Length header, which lets clients read a part without scanning it.
 */
export const BOUNDARY = "frame";
export const MJPEG_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;

const encoder = new TextEncoder();
const TRAILER = encoder.encode("\r\n");

/** One part: built once per frame, written as is to every viewer. */
export function mjpegPart(jpeg: Uint8Array): Uint8Array {
  const head = encoder.encode(`--${BOUNDARY}\r\nContent-Type:image/jpeg\r\nContent-Length: ${jpeg.byteLength}\r\n\r\n`);
  const part = new Uint8Array(head.byteLength + jpeg.byteLength + TRAILER.byteLength);
  part.set(head, 0);
  part.set(jpeg, head.byteLength);
  part.set(TRAILER, head.byteLength + jpeg.byteLength);
  return part;
}
