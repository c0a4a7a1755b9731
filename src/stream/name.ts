/** What a stream may be called: it is part of every address (/video/NAME, rtsp://…/NAME) and of viewer tokens. */
export const STREAM_NAME = /^[A-Za-z0-9_-]{1,32}$/;
