/*
 * glasscast player: plain browser JavaScript (ES2020), no build step, no
 * framework. It reads the page's config (<script id="glasscast-config">),
 * shows each stream in a tile and keeps it playing:
 *
 * - transports tried in the order of config.transports, falling back to the
 *   next one when a transport fails before showing a picture;
 * - reconnection with back-off (1 s, 2 s, 4 s … at most 10 s), said on screen;
 * - a poll of config.statusUrl every 2 s (size, fps, state of each stream;
 *   a failed fetch means the server is gone; a 404 means "no information");
 * - an info overlay (key I) in the picture's top-right corner (cameras put
 *   their clock top-left), full screen (click, tap or key F), kiosk mode;
 * - while the picture is away, its last frame stays, dimmed, under the state.
 *
 * Timers only: nothing runs per animation frame.
 */
(() => {
  "use strict";

  const STATUS_EVERY_MS = 2000;
  const STATUS_TIMEOUT_MS = 6000;
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 10000;
  /** A transport that shows no picture within this time has failed. */
  const FIRST_PICTURE_TIMEOUT_MS = 15000;
  /** A tap within this time of a full-screen toggle is ignored (double taps). */
  const TOGGLE_DEBOUNCE_MS = 450;
  const CURSOR_IDLE_MS = 2500;
  /** Below this width a tile of the wall is too small: the page scrolls instead (not in a kiosk). */
  const MIN_TILE_WIDTH = 280;
  /** A kiosk showing an error page tries the page again after this time. */
  const KIOSK_ERROR_RELOAD_MS = 10000;
  const OVERLAY_STORAGE_KEY = "glasscast.overlay";
  /** How often a tile with sound reads its level for the meter. */
  const LEVEL_POLL_MS = 250;

  // ---- small helpers ------------------------------------------------------

  function h(tag, className, attrs, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text != null) node.textContent = text;
    return node;
  }

  /** The URL with a fresh `t` query parameter, so that no cache or half-dead connection is reused. */
  let bustCounter = 0;
  function cacheBust(url) {
    const u = new URL(url, location.href);
    u.searchParams.set("t", Date.now().toString(36) + (bustCounter++).toString(36));
    return u.origin === location.origin ? u.pathname + u.search + u.hash : u.href;
  }

  function formatFps(fps) {
    return fps >= 9.95 ? String(Math.round(fps)) : String(Math.round(fps * 10) / 10);
  }

  function storageGet(key) {
    try { return window.localStorage.getItem(key); } catch { return null; }
  }
  function storageSet(key, value) {
    try { window.localStorage.setItem(key, value); } catch { /* private mode: not remembered */ }
  }

  function readConfig() {
    const node = document.getElementById("glasscast-config");
    let raw = null;
    try { raw = JSON.parse(node ? node.textContent : ""); } catch { raw = null; }
    if (!raw || typeof raw !== "object") raw = {};
    const streams = (Array.isArray(raw.streams) ? raw.streams : [])
      .filter((s) => s && typeof s.name === "string" && typeof s.video === "string" && s.video)
      .map((s) => ({
        name: s.name,
        video: s.video,
        snapshot: typeof s.snapshot === "string" ? s.snapshot : "",
        view: typeof s.view === "string" ? s.view : "",
        hls: typeof s.hls === "string" ? s.hls : "",
        audio: s.audio === true,
      }));
    let transports = Array.isArray(raw.transports) ? raw.transports.filter((t) => typeof t === "string") : [];
    // ?transport=webrtc|hls|mjpeg plays that one only (if the server offers it; HLS it offers when it gives its settings).
    const forced = new URLSearchParams(location.search).get("transport");
    const hlsOffered = Boolean(raw.hls && typeof raw.hls === "object");
    if (forced && (transports.includes(forced) || (forced === "hls" && hlsOffered))) transports = [forced];
    return {
      kiosk: raw.kiosk === true,
      kioskSound: raw.kioskSound === true,
      single: raw.single === true,
      streams,
      statusUrl: typeof raw.statusUrl === "string" ? raw.statusUrl : "",
      transports: transports.length ? transports : ["mjpeg"],
      webrtc: readWebRtcConfig(raw.webrtc),
      talkback: raw.talkback && typeof raw.talkback === "object" && typeof raw.talkback.offer === "string" ? { offer: raw.talkback.offer } : null,
      hls: raw.hls && typeof raw.hls === "object" && typeof raw.hls.script === "string" ? { script: raw.hls.script } : null,
    };
  }

  /** { offer, close, iceServers } for the WebRTC transport, or null when the server has none. */
  function readWebRtcConfig(raw) {
    if (!raw || typeof raw !== "object" || typeof raw.offer !== "string") return null;
    return {
      offer: raw.offer,
      close: typeof raw.close === "string" ? raw.close : "",
      iceServers: Array.isArray(raw.iceServers) ? raw.iceServers.filter((s) => s && typeof s.urls === "string") : [],
    };
  }

  // ---- transports -----------------------------------------------------------
  //
  // A transport shows one stream in one tile. It is an object
  //   { name, label, start(tile, stream, events), stop(), alive() }
  // start() puts its media element (class "gc-video") into the tile element
  // and reports through events.playing({ width, height }) when the picture
  // shows, and events.error(reason) when it fails, before or after playing.
  // events.attempt is 0 the first time the tile starts a transport and
  // counts up from there (an MJPEG URL gets a cache-busting ?t= from 1 on).
  // stop() closes the connection and removes the element; nothing is
  // reported after stop(). The optional alive() answers false when the
  // picture is known to be gone without an event (asked every 2 s).
  // TRANSPORTS maps a name of config.transports to { supported(), create() };
  // names not listed there are skipped.

  function createMjpegTransport() {
    let img = null;
    return {
      name: "mjpeg",
      label: "MJPEG",
      start(tile, stream, events) {
        const current = h("img", "gc-video", { alt: `Live video: ${stream.name}`, draggable: "false" });
        img = current;
        // Chromium fires "load" once, on the first part of the multipart stream.
        current.addEventListener("load", () => {
          if (img === current) events.playing({ width: current.naturalWidth, height: current.naturalHeight });
        });
        current.addEventListener("error", () => {
          if (img === current) events.error("the MJPEG stream could not be loaded");
        });
        current.src = events.attempt > 0 ? cacheBust(stream.video) : stream.video;
        tile.insertBefore(current, tile.firstChild);
      },
      // Chromium drops the picture of a broken multipart connection without
      // firing "error": the image is then empty.
      alive() {
        return !img || !img.complete || img.naturalWidth > 0;
      },
      stop() {
        const current = img;
        img = null;
        if (!current) return;
        current.removeAttribute("src"); // ends the multipart request
        current.remove();
      },
    };
  }

  // WebRTC: one RTCPeerConnection per tile, receiving the stream's H.264 into a
  // <video>. The offer goes out with its candidates gathered (no trickle); when
  // ICE has not connected within WEBRTC_CONNECT_MS (NAT, a browser setting), or
  // the connection fails later, the tile falls back to MJPEG.
  const WEBRTC_CONNECT_MS = 4000;
  /** The page's config (set by main()), read by transports that need server settings. */
  let CONFIG = { webrtc: null };
  const WEBRTC_GATHER_MS = 1500;
  /** Peers to close when the page goes away, by id. */
  const openPeers = new Map();
  window.addEventListener("pagehide", () => {
    for (const [id, close] of openPeers) navigator.sendBeacon(close, id);
  });

  function createWebRtcTransport() {
    const settings = CONFIG.webrtc;
    let pc = null;
    let video = null;
    let peerId = null;
    let connectTimer = null;
    let stopped = false;
    const closePeer = () => {
      if (!peerId || !settings.close) return;
      openPeers.delete(peerId);
      fetch(settings.close, { method: "POST", body: peerId, keepalive: true }).catch(() => {});
      peerId = null;
    };
    return {
      name: "webrtc",
      label: "WebRTC",
      start(tile, stream, events) {
        pc = new RTCPeerConnection({ iceServers: settings.iceServers });
        const current = pc;
        video = h("video", "gc-video", { "aria-label": `Live video: ${stream.name}`, playsinline: "", autoplay: "" });
        video.muted = true;
        tile.insertBefore(video, tile.firstChild);
        const shown = video;
        const reportPlaying = () => {
          if (shown.videoWidth > 0 && !stopped) events.playing({ width: shown.videoWidth, height: shown.videoHeight });
        };
        shown.addEventListener("loadeddata", reportPlaying);
        shown.addEventListener("resize", reportPlaying);
        current.addTransceiver("video", { direction: "recvonly" });
        // The stream's sound, when it has some: in the same element, muted until the viewer unmutes it.
        if (stream.audio) current.addTransceiver("audio", { direction: "recvonly" });
        const media = new MediaStream();
        current.ontrack = (e) => {
          media.addTrack(e.track);
          if (shown.srcObject !== media) shown.srcObject = media;
          shown.play().catch(() => {});
          if (e.track.kind === "audio" && events.sound) events.sound(shown, current);
        };
        current.onconnectionstatechange = () => {
          if (stopped) return;
          const state = current.connectionState;
          if (state === "connected") clearTimeout(connectTimer);
          if (state === "failed" || state === "closed") events.error(`WebRTC ${state}`);
        };
        connectTimer = setTimeout(() => {
          if (!stopped && current.connectionState !== "connected") events.error("WebRTC did not connect in time");
        }, WEBRTC_CONNECT_MS);
        (async () => {
          await current.setLocalDescription(await current.createOffer());
          await gathered(current);
          const res = await fetch(settings.offer, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ sdp: current.localDescription.sdp, type: "offer", stream: stream.name }),
          });
          if (!res.ok) throw new Error(`the server answered ${res.status}`);
          const answer = await res.json();
          if (stopped) {
            if (answer.id) fetch(settings.close, { method: "POST", body: answer.id, keepalive: true }).catch(() => {});
            return;
          }
          peerId = answer.id || null;
          if (peerId && settings.close) openPeers.set(peerId, settings.close);
          await current.setRemoteDescription({ type: "answer", sdp: answer.sdp });
        })().catch((err) => { if (!stopped) events.error(String(err && err.message || err)); });
      },
      // A connection that dropped, or a video that stopped moving, is gone.
      alive() {
        if (!pc || !video) return true;
        return pc.connectionState !== "disconnected" && pc.connectionState !== "failed";
      },
      stop() {
        stopped = true;
        clearTimeout(connectTimer);
        closePeer();
        if (pc) pc.close();
        pc = null;
        if (video) {
          video.srcObject = null;
          video.remove();
        }
        video = null;
      },
    };
  }

  // HLS: the stream's LL-HLS playlist in a <video>, played by the browser
  // itself where it says it plays HLS (canPlayType) and is WebKit: Safari,
  // every iOS browser (an iPhone has no MSE before iOS 17.1, and Apple's own
  // player does LL-HLS), WebKitGTK; or where there is no MSE at all.
  // Elsewhere hls.js plays it over Media Source Extensions: Chromium answers
  // "maybe" to canPlayType(HLS) too, but its own player cannot parse these
  // fMP4 parts. WebKit is told by navigator.vendor ("Apple Computer, Inc.",
  // Chromium's is "Google Inc.", Firefox's empty), which, unlike
  // navigator.userAgentData, every page has, secure or not. hls.js is embedded in
  // glasscast (never a CDN) and loaded the first time a tile needs it. Tried
  // when WebRTC cannot connect, before MJPEG. The <video> says which player
  // it has in data-player ("native" or "hls.js").
  let hlsScript = null;
  function loadHlsJs(src) {
    if (window.Hls) return Promise.resolve(window.Hls);
    hlsScript = hlsScript || new Promise((resolve, reject) => {
      const el = h("script", null, { src });
      el.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error("hls.js did not load")));
      el.onerror = () => { hlsScript = null; reject(new Error("hls.js could not be loaded")); };
      document.head.append(el);
    });
    return hlsScript;
  }

  function hasMse() {
    return typeof window.MediaSource === "function" || typeof window.ManagedMediaSource === "function";
  }

  function nativeHls() {
    const probe = document.createElement("video");
    return typeof probe.canPlayType === "function" && probe.canPlayType("application/vnd.apple.mpegurl") !== "";
  }

  /** The browser's own HLS player is used (see above). */
  function preferNativeHls() {
    return nativeHls() && (!hasMse() || /^Apple/.test(navigator.vendor || ""));
  }

  function createHlsTransport() {
    let video = null;
    let hls = null;
    let stopped = false;
    return {
      name: "hls",
      label: "HLS",
      start(tile, stream, events) {
        video = h("video", "gc-video", { "aria-label": `Live video: ${stream.name}`, playsinline: "", autoplay: "" });
        video.muted = true;
        tile.insertBefore(video, tile.firstChild);
        const shown = video;
        const reportPlaying = () => {
          if (shown.videoWidth > 0 && !stopped) events.playing({ width: shown.videoWidth, height: shown.videoHeight });
        };
        shown.addEventListener("loadeddata", reportPlaying);
        shown.addEventListener("resize", reportPlaying);
        shown.addEventListener("error", () => { if (!stopped) events.error("the HLS video could not be played"); });
        if (preferNativeHls()) {
          shown.dataset.player = "native";
          shown.src = stream.hls;
          shown.play().catch(() => {});
          return;
        }
        shown.dataset.player = "hls.js";
        loadHlsJs(CONFIG.hls.script).then((Hls) => {
          if (stopped) return;
          if (!Hls.isSupported()) throw new Error("this browser cannot play HLS");
          hls = new Hls({ lowLatencyMode: true, backBufferLength: 10 });
          hls.on(Hls.Events.ERROR, (_event, data) => {
            if (data && data.fatal && !stopped) events.error(`HLS: ${data.details || data.type}`);
          });
          hls.loadSource(stream.hls);
          hls.attachMedia(shown);
          shown.play().catch(() => {});
        }).catch((err) => { if (!stopped) events.error(String(err && err.message || err)); });
      },
      stop() {
        stopped = true;
        if (hls) hls.destroy();
        hls = null;
        if (video) {
          video.removeAttribute("src");
          video.load();
          video.remove();
        }
        video = null;
      },
    };
  }

  /** Resolves when ICE gathering is complete, or after WEBRTC_GATHER_MS with what there is. */
  function gathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); pc.removeEventListener("icegatheringstatechange", check); resolve(); };
      const check = () => { if (pc.iceGatheringState === "complete") done(); };
      const timer = setTimeout(done, WEBRTC_GATHER_MS);
      pc.addEventListener("icegatheringstatechange", check);
    });
  }

  /** How the page names each transport, whatever it is doing. */
  const TRANSPORT_LABELS = { webrtc: "WebRTC", hls: "HLS", mjpeg: "MJPEG" };

  const TRANSPORTS = {
    webrtc: { supported: () => typeof RTCPeerConnection === "function" && CONFIG.webrtc !== null, create: createWebRtcTransport },
    hls: {
      supported: () => CONFIG.hls !== null && (hasMse() || nativeHls()),
      create: createHlsTransport,
    },
    mjpeg: { supported: () => true, create: createMjpegTransport },
  };

  // ---- one tile per stream -----------------------------------------------

  class Tile {
    constructor(player, stream) {
      this.player = player;
      this.stream = stream;
      this.el = h("section", "gc-tile", {
        "data-stream": stream.name,
        tabindex: "0",
        role: "group",
        "aria-label": `${stream.name}: live video. Press Enter or F for full screen.`,
      });
      this.overlay = h("div", "gc-overlay");
      // Where the picture comes from, and why when glasscast chose it (no --source given): under the overlay.
      this.sourceLine = h("div", "gc-overlay-source");
      this.sourceLine.hidden = true;
      this.banner = h("div", "gc-status", { role: "status", "aria-live": "polite" });
      this.bannerIcon = h("span", "gc-status-icon", { "aria-hidden": "true" });
      this.bannerText = h("span", "gc-status-text");
      // The countdown changes every second: not read out by screen readers.
      this.bannerDetail = h("span", "gc-status-detail", { "aria-hidden": "true" });
      this.banner.append(this.bannerIcon, this.bannerText, this.bannerDetail);
      this.banner.hidden = true;
      // The last frame shown, kept (dimmed) while the picture is away.
      this.still = h("canvas", "gc-still", { "aria-hidden": "true" });
      this.stillReady = false;
      // Sound (a stream with --audio, over WebRTC): an unmute button and a level meter, shown once sound arrives.
      this.soundButton = h("button", "gc-sound", { type: "button", "aria-pressed": "false", "aria-label": `Sound of ${stream.name}: off. Unmute` });
      this.soundButton.hidden = true;
      this.soundButton.addEventListener("click", (e) => { e.stopPropagation(); this.setSound(!this.soundOn); });
      this.level = h("div", "gc-level", { role: "meter", "aria-label": `Sound level of ${stream.name}`, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" });
      this.levelBar = h("span", "gc-level-bar");
      this.level.append(this.levelBar);
      this.level.hidden = true;
      this.soundOn = false;
      this.soundMedia = null;
      this.soundPc = null;
      this.levelTimer = 0;
      this.el.append(this.still, this.overlay, this.sourceLine, this.banner, this.level, this.soundButton);

      this.transport = null;
      this.round = []; // transport names tried in this connection round
      this.roundPos = 0;
      this.broken = new Set(); // transports that failed without ever showing a picture
      this.played = new Set(); // transports that showed a picture at least once
      this.lastPlayed = ""; // the transport that showed the picture last
      this.playing = false;
      this.playingSince = 0;
      this.reconnecting = false;
      this.attempt = 0; // retries since the picture was last shown
      this.starts = 0; // transports started by this tile
      this.viewerResets = []; // times this tile reconnected because the server counted no viewer
      this.retryAt = 0;
      this.retryTimer = 0;
      this.tickTimer = 0;
      this.watchdog = 0;
      this.status = null; // this stream's entry of the status answer, or null (no information)
      this.size = null; // size of the picture shown
      this.renderedOverlay = "";
      this.renderedBanner = "";
    }

    // -- connecting

    connect() {
      this.clearRetry();
      this.stopTransport();
      const usable = this.player.transports;
      let round = usable.filter((n) => !this.broken.has(n));
      if (!round.length) {
        this.broken.clear();
        round = usable.slice();
      }
      this.round = round;
      this.roundPos = 0;
      if (!round.length) return this.render();
      this.startTransport();
    }

    startTransport() {
      const name = this.round[this.roundPos];
      const transport = TRANSPORTS[name].create();
      this.transport = transport;
      this.playing = false;
      clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => {
        if (this.transport === transport && !this.playing) this.onError(transport, "no picture in time");
      }, FIRST_PICTURE_TIMEOUT_MS);
      const events = {
        attempt: this.starts++,
        playing: (info) => { if (this.transport === transport) this.onPlaying(transport, info); },
        error: (reason) => { if (this.transport === transport) this.onError(transport, reason); },
        sound: (media, pc) => { if (this.transport === transport) this.onSound(media, pc); },
      };
      try {
        transport.start(this.el, this.stream, events);
      } catch (err) {
        setTimeout(() => events.error(String(err)), 0);
      }
      this.render();
    }

    stopTransport() {
      clearTimeout(this.watchdog);
      this.stopSound();
      if (this.playing) this.keepStill();
      const transport = this.transport;
      this.transport = null;
      this.playing = false;
      if (transport) {
        try { transport.stop(); } catch { /* already gone */ }
      }
    }

    onPlaying(transport, info) {
      clearTimeout(this.watchdog);
      if (!this.playing) this.playingSince = Date.now();
      this.playing = true;
      this.reconnecting = false;
      this.attempt = 0;
      this.played.add(transport.name);
      this.lastPlayed = transport.name;
      this.broken.delete(transport.name);
      this.stopTick();
      if (info && info.width > 0 && info.height > 0) this.size = { width: info.width, height: info.height };
      this.keepStill();
      this.updateAspect();
      this.render();
      this.player.updateLive();
    }

    onError(transport) {
      clearTimeout(this.watchdog);
      const wasPlaying = this.playing;
      this.playing = false;
      if (!wasPlaying && !this.played.has(transport.name)) this.broken.add(transport.name);
      if (!wasPlaying && this.roundPos + 1 < this.round.length) {
        // Fall back to the next transport at once.
        this.stopTransport();
        this.roundPos += 1;
        this.startTransport();
        return;
      }
      this.scheduleRetry();
    }

    // -- sound

    onSound(media, pc) {
      this.soundMedia = media;
      this.soundPc = pc;
      this.soundButton.hidden = false;
      // Muted at first (browsers' autoplay rules); a kiosk with --kiosk-sound starts unmuted when the browser lets it.
      this.setSound(this.soundOn || (this.player.kiosk && this.player.config.kioskSound));
      this.level.hidden = !this.player.overlayOn;
      clearInterval(this.levelTimer);
      this.levelTimer = setInterval(() => this.readLevel(), LEVEL_POLL_MS);
    }

    setSound(on) {
      this.soundOn = on;
      const media = this.soundMedia;
      if (media) {
        media.muted = !on;
        // Unmuting needs the browser's leave (a click gives it): refused, the sound stays off.
        if (on) media.play().catch(() => { if (this.soundMedia === media) { media.muted = true; this.soundOn = false; this.renderSound(); } });
      }
      this.renderSound();
    }

    renderSound() {
      this.soundButton.classList.toggle("gc-sound--on", this.soundOn);
      this.soundButton.setAttribute("aria-pressed", String(this.soundOn));
      this.soundButton.setAttribute("aria-label", `Sound of ${this.stream.name}: ${this.soundOn ? "on. Mute" : "off. Unmute"}`);
      this.soundButton.textContent = this.soundOn ? "\u{1F50A}" : "\u{1F507}";
    }

    /** The received sound's level (the browser's own measure of what it decoded), shown as a bar on a 60 dB scale. */
    readLevel() {
      const pc = this.soundPc;
      if (!pc) return;
      pc.getStats().then((report) => {
        let level = 0;
        report.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "audio" && typeof s.audioLevel === "number") level = s.audioLevel; });
        const pct = level > 0 ? Math.max(0, Math.min(100, Math.round(((20 * Math.log10(level)) + 60) / 60 * 100))) : 0;
        this.levelBar.style.width = `${pct}%`;
        this.level.setAttribute("aria-valuenow", String(pct));
      }).catch(() => {});
    }

    stopSound() {
      clearInterval(this.levelTimer);
      this.levelTimer = 0;
      this.soundMedia = null;
      this.soundPc = null;
      this.soundButton.hidden = true;
      this.level.hidden = true;
    }

    /** Asked every 2 s: a transport that knows its picture is gone has failed. */
    check() {
      const t = this.transport;
      if (this.playing && t && typeof t.alive === "function" && !t.alive()) return this.onError(t, "the picture is gone");
      // A broken MJPEG connection empties its image before anything says so:
      // the frame to keep is copied while the picture plays.
      if (this.playing) this.keepStill();
    }

    /** Copies the picture on screen into the still; false when there is none. */
    keepStill() {
      const media = this.el.querySelector(".gc-video");
      if (!media) return false;
      const width = media.naturalWidth || media.videoWidth || 0;
      const height = media.naturalHeight || media.videoHeight || 0;
      if (!width || !height) return false;
      try {
        if (this.still.width !== width) this.still.width = width;
        if (this.still.height !== height) this.still.height = height;
        this.still.getContext("2d").drawImage(media, 0, 0, width, height);
        this.stillReady = true;
        return true;
      } catch {
        return false; // not decodable right now: keep the previous copy
      }
    }

    /** Shows "Reconnecting…" and tries again after the back-off delay. */
    scheduleRetry() {
      this.stopTransport();
      this.reconnecting = true;
      this.attempt += 1;
      const delay = Math.min(BACKOFF_FIRST_MS * 2 ** (this.attempt - 1), BACKOFF_MAX_MS);
      this.retryAt = Date.now() + delay;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = 0;
        this.stopTick();
        this.connect();
      }, delay);
      this.startTick();
      this.render();
      this.player.updateLive();
    }

    clearRetry() {
      clearTimeout(this.retryTimer);
      this.retryTimer = 0;
      this.stopTick();
    }

    startTick() {
      if (this.tickTimer) return;
      this.tickTimer = setInterval(() => this.render(), 1000);
    }

    stopTick() {
      clearInterval(this.tickTimer);
      this.tickTimer = 0;
    }

    // -- what the status poll says

    /** The status fetch failed: the server is gone (or unreachable). */
    serverLost() {
      this.status = null; // what the server said last is no longer true (its frame rate above all)
      this.render();
      if (this.reconnecting) return; // already retrying with back-off
      this.scheduleRetry();
    }

    /**
     * A status answer: `entry` is this stream's part of it (null: no
     * information), `sentAt` when the request left; `back` true when the
     * server answers again after failing, `restarted` when it is another
     * server process than before: restart at once.
     */
    applyStatus(entry, sentAt, back, restarted) {
      const before = this.status ? this.status.state : null;
      this.status = entry;
      const state = entry ? entry.state : null;
      if (restarted || (back && !this.playing)) {
        this.broken.clear();
        this.attempt = 0;
        this.connect();
      } else if (state === "running" && before && before !== "running" && this.retryTimer) {
        // The stream came back while this tile waited: no need to wait longer.
        this.connect();
      } else if (this.playing && entry && this.viewersOfMyTransport(entry) === 0 && this.playingSince < sentAt - 1000 && this.trustViewers(sentAt)) {
        // The server counts no viewer on this tile's transport, so its connection
        // is gone (e.g. the server restarted between two polls).
        this.viewerResets.push(sentAt);
        this.scheduleRetry();
      }
      this.updateAspect();
      this.render();
    }

    /** The server's count of viewers on the transport this tile uses (undefined: not counted). */
    viewersOfMyTransport(entry) {
      const name = this.transport ? this.transport.name : "";
      return name === "webrtc" ? entry.webrtcViewers : name === "mjpeg" ? entry.viewers : undefined;
    }

    /** A server whose viewer count leaves this page out would make it reconnect forever: 3 strikes a minute. */
    trustViewers(now) {
      this.viewerResets = this.viewerResets.filter((t) => t > now - 60000);
      return this.viewerResets.length < 3;
    }

    // -- drawing

    /** Width / height of the picture, or 0 while unknown. */
    aspect() {
      const st = this.status;
      const w = (st && st.width > 0 && st.width) || (this.size && this.size.width) || 0;
      const ht = (st && st.height > 0 && st.height) || (this.size && this.size.height) || 0;
      return w && ht ? w / ht : 0;
    }

    updateAspect() {
      const ar = this.aspect();
      if (!ar) return;
      const value = ar.toFixed(4);
      if (this.el.style.getPropertyValue("--gc-ar") === value) return;
      this.el.style.setProperty("--gc-ar", value);
      this.player.layout();
    }

    render() {
      // No picture now: the last one stays, dimmed, with the state on it.
      this.el.classList.toggle("gc-tile--stale", !this.playing && this.stillReady);
      this.renderBanner();
      this.renderOverlay();
    }

    /** One word for where the picture is: Live, Reconnecting, Offline or Connecting. */
    stateWord() {
      if (this.playing) return "Live";
      if (this.player.serverLost) return "Offline";
      if (this.reconnecting) return "Reconnecting";
      return "Connecting";
    }

    renderBanner() {
      const state = this.status ? this.status.state : null;
      let kind = "";
      let text = "";
      let detail = "";
      if (!this.round.length && !this.transport) {
        kind = "nosupport";
        text = `This page cannot play ${this.player.config.transports.join(" or ")}`;
      } else if (this.reconnecting) {
        kind = "reconnecting";
        // The same word as the overlay and the header: the server, or only this picture, is away.
        text = this.player.serverLost ? "Offline · Reconnecting…" : "Reconnecting…";
        if (this.retryTimer) {
          const s = Math.max(1, Math.ceil((this.retryAt - Date.now()) / 1000));
          detail = `attempt ${this.attempt} in ${s} s`;
        } else {
          detail = "trying now";
        }
      } else if (state === "restarting") {
        kind = "nosignal";
        text = "No signal — the camera is reconnecting";
      } else if (state === "ended") {
        kind = "ended";
        text = "End of stream";
      } else if (state === "stopped") {
        kind = "stopped";
        text = "Stream stopped";
      } else if (state === "starting") {
        kind = "connecting";
        text = "Starting the camera…";
      } else if (!this.playing) {
        kind = "connecting";
        text = "Connecting…";
      }
      // A kiosk shows the picture alone, with at most a small reconnecting hint.
      const show = kind !== "" && (!this.player.kiosk || kind === "reconnecting");
      const key = show ? `${kind}|${text}|${detail}` : "";
      if (key === this.renderedBanner) return;
      this.renderedBanner = key;
      this.banner.hidden = !show;
      if (!show) return;
      this.banner.dataset.kind = kind;
      this.bannerText.textContent = text;
      this.bannerDetail.textContent = detail ? ` ${detail}` : "";
    }

    renderSource() {
      const source = this.status && typeof this.status.source === "string" ? this.status.source : "";
      this.sourceLine.hidden = !source || !this.player.overlayOn;
      if (this.sourceLine.textContent !== source) {
        this.sourceLine.textContent = source;
        this.sourceLine.title = source;
      }
    }

    renderOverlay() {
      this.renderSource();
      const st = this.status;
      const parts = [];
      const w = (st && st.width > 0 && st.width) || (this.size && this.size.width);
      const ht = (st && st.height > 0 && st.height) || (this.size && this.size.height);
      if (w && ht) parts.push(`${w}×${ht}`);
      // The server's rate (counted over its last seconds), only while this page shows the picture.
      if (this.playing && st && typeof st.fps === "number" && st.fps > 0) parts.push(`${formatFps(st.fps)} fps`);
      // Without a picture the tile tries each transport in turn: it names the one
      // that played last (or the first it tries), not each attempt.
      const name = this.playing && this.transport ? this.transport.name : (this.lastPlayed || this.round[0] || "");
      const label = TRANSPORT_LABELS[name] || name;
      if (label) parts.push(label);
      if (!this.playing) parts.push(this.stateWord());
      // Say why when a better transport was tried first and could not connect.
      const skipped = this.playing && this.transport ? this.round.slice(0, this.round.indexOf(this.transport.name)) : [];
      if (skipped.includes("webrtc")) parts.push("WebRTC could not connect");
      const named = this.player.tiles.length > 1;
      const key = `${named}|${parts.join(" · ")}`;
      if (key === this.renderedOverlay) return;
      this.renderedOverlay = key;
      this.overlay.textContent = "";
      if (named) {
        const link = this.stream.view ? h("a", "gc-overlay-name", { href: this.stream.view }, this.stream.name)
          : h("span", "gc-overlay-name", null, this.stream.name);
        this.overlay.append(link, parts.length ? " · " : "");
      }
      this.overlay.append(parts.join(" · "));
    }
  }

  // ---- the player -------------------------------------------------------------

  class Player {
    constructor(root, config) {
      this.root = root;
      this.config = config;
      this.kiosk = config.kiosk || document.body.classList.contains("gc-kiosk");
      this.transports = config.transports.filter((n) => Object.prototype.hasOwnProperty.call(TRANSPORTS, n) && TRANSPORTS[n].supported());
      this.tiles = [];
      this.hovered = null;
      this.serverLost = false;
      this.statusMissing = false;
      this.probeUrl = (config.streams.find((s) => s.snapshot) || { snapshot: "" }).snapshot;
      this.instance = undefined;
      this.pollTimer = 0;
      this.polling = false;
      this.lastToggle = 0;
      this.idleTimer = 0;
      this.overlayOn = storageGet(OVERLAY_STORAGE_KEY) !== "off";
      this.live = document.querySelector(".gc-live");
      this.liveText = this.live && this.live.querySelector(".gc-live-text");
    }

    start() {
      if (this.kiosk) document.body.classList.add("gc-kiosk");
      const streams = this.config.streams;
      this.root.textContent = "";
      if (!streams.length) {
        const empty = h("div", "gc-empty");
        empty.append(h("strong", null, null, "No stream to show"), "glasscast has no stream configured for this page.");
        this.root.append(empty);
        this.setLive("offline", "No stream");
        return;
      }
      const single = streams.length === 1;
      this.root.classList.add(single ? "gc-player--single" : "gc-player--grid");
      for (const stream of streams) {
        const tile = new Tile(this, stream);
        this.tiles.push(tile);
        this.root.append(tile.el);
        this.bindTile(tile);
      }
      this.renderLinks();
      if (this.config.talkback && typeof RTCPeerConnection === "function") this.addTalkButton(this.config.talkback);
      this.bindKeys();
      this.bindOverlayToggle();
      this.applyOverlay();
      document.addEventListener("fullscreenchange", () => this.onFullscreenChange());
      document.addEventListener("webkitfullscreenchange", () => this.onFullscreenChange());
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible" && this.config.statusUrl && !this.polling) this.pollNow();
      });
      if (!single) {
        this.layout();
        if (window.ResizeObserver) new ResizeObserver(() => this.layout()).observe(this.root);
        else window.addEventListener("resize", () => this.layout());
      }
      for (const tile of this.tiles) tile.connect();
      setInterval(() => { for (const tile of this.tiles) tile.check(); }, STATUS_EVERY_MS);
      this.updateLive();
      if (this.config.statusUrl) this.pollNow();
    }

    // -- the wall of tiles (several streams)

    /** The tiles' common aspect ratio: the first stream whose size is known, else 16:9. */
    gridAspect() {
      for (const tile of this.tiles) {
        const ar = tile.aspect();
        if (ar) return ar;
      }
      return 16 / 9;
    }

    /** Picks the number of columns that gives the largest tiles that all fit in the window. */
    layout() {
      const n = this.tiles.length;
      if (n < 2) return;
      const cs = getComputedStyle(this.root);
      const gap = parseFloat(cs.columnGap) || 0;
      const width = this.root.clientWidth - (parseFloat(cs.paddingLeft) || 0) - (parseFloat(cs.paddingRight) || 0);
      const height = this.root.clientHeight - (parseFloat(cs.paddingTop) || 0) - (parseFloat(cs.paddingBottom) || 0);
      if (width <= 0 || height <= 0) return;
      const ar = this.gridAspect();
      let best = 0;
      for (let cols = 1; cols <= n; cols++) {
        const rows = Math.ceil(n / cols);
        const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * ar);
        if (w > best) best = w;
      }
      const scroll = !this.kiosk && best < Math.min(width, MIN_TILE_WIDTH);
      if (scroll) {
        const cols = Math.max(1, Math.floor((width + gap) / (MIN_TILE_WIDTH + gap)));
        best = (width - gap * (cols - 1)) / cols;
      }
      this.root.classList.toggle("gc-player--scroll", scroll);
      this.root.style.setProperty("--gc-tile-w", `${Math.floor(best)}px`);
      this.root.style.setProperty("--gc-grid-ar", ar.toFixed(4));
    }

    // -- status poll

    pollNow() {
      clearTimeout(this.pollTimer);
      this.pollTimer = 0;
      void this.poll();
    }

    /**
     * Asks statusUrl. A server without it (404) gives no information; the
     * poll then only checks that the server is there, with HEAD requests for
     * the first snapshot (a browser logs every 404 in the console), and asks
     * statusUrl again once the server has been away and is back.
     */
    async poll() {
      if (this.polling) return;
      this.polling = true;
      const probing = this.statusMissing;
      const sentAt = Date.now();
      const abort = new AbortController();
      const timeout = setTimeout(() => abort.abort(), STATUS_TIMEOUT_MS);
      let reached = false;
      let data = null;
      try {
        const res = await fetch(probing ? this.probeUrl : this.config.statusUrl, {
          method: probing ? "HEAD" : "GET",
          cache: "no-store",
          headers: { accept: "application/json" },
          signal: abort.signal,
        });
        reached = true;
        if (!probing && res.ok) data = await res.json().catch(() => null);
        else {
          if (!probing && res.status === 404 && this.probeUrl) this.statusMissing = true;
          if (res.body) res.body.cancel().catch(() => {});
        }
      } catch {
        // A network error (the server is gone) or no answer in time.
      }
      clearTimeout(timeout);
      this.polling = false;
      if (reached) this.onStatus(data, sentAt);
      else this.onStatusFailed(abort.signal.aborted);
      this.pollTimer = setTimeout(() => this.poll(), STATUS_EVERY_MS);
    }

    onStatus(data, sentAt) {
      const list = data && Array.isArray(data.streams) ? data.streams : null;
      const byName = new Map();
      if (list) for (const s of list) if (s && typeof s.name === "string") byName.set(s.name, s);
      // An "instance" that changes means the server restarted between two polls.
      const instance = data && (typeof data.instance === "string" || typeof data.instance === "number") ? data.instance : undefined;
      const restarted = instance !== undefined && this.instance !== undefined && instance !== this.instance;
      if (instance !== undefined) this.instance = instance;
      const back = this.serverLost;
      if (back) this.statusMissing = false; // maybe a newer server: ask again
      this.serverLost = false;
      for (const tile of this.tiles) tile.applyStatus(list ? byName.get(tile.stream.name) || null : null, sentAt, back, restarted);
      this.updateLive();
    }

    /**
     * No answer. A network error means the server is gone: every tile
     * reconnects. A timeout only moves the tiles that show no picture: the
     * request may just wait for a free connection (a browser opens at most 6
     * per server over HTTP/1.1, and each MJPEG picture holds one), and a
     * picture that still plays must not be cut for that.
     */
    onStatusFailed(timedOut) {
      this.serverLost = true;
      for (const tile of this.tiles) {
        if (!(timedOut && tile.playing)) tile.serverLost();
      }
      this.updateLive();
    }

    updateLive() {
      const playing = this.tiles.filter((t) => t.playing).length;
      if (this.serverLost && playing === 0) return this.setLive("offline", "Offline");
      if (this.tiles.some((t) => t.reconnecting)) return this.setLive("offline", "Reconnecting");
      if (playing > 0) return this.setLive("live", "Live");
      this.setLive("connecting", "Connecting");
    }

    setLive(state, text) {
      if (!this.live || (this.live.dataset.state === state && this.live.textContent === text)) return;
      this.live.dataset.state = state;
      if (this.liveText) this.liveText.textContent = text;
    }

    // -- links under the player

    renderLinks() {
      const links = document.querySelector(".gc-links");
      if (!links) return;
      links.textContent = "";
      if (this.config.single) links.append(h("a", null, { href: "/" }, "All streams"));
      if (this.tiles.length === 1) {
        const s = this.tiles[0].stream;
        links.append(h("a", null, { href: s.video }, "MJPEG stream"));
        if (s.snapshot) links.append(h("a", null, { href: s.snapshot }, "Snapshot"));
      }
    }

    // -- talk-back (push to talk, --talkback): the page's microphone to the machine's speaker while held

    addTalkButton(settings) {
      const button = h("button", "gc-button gc-talk", { type: "button", "aria-pressed": "false", title: "Hold to talk through the camera's speaker" });
      const label = h("span", null, null, "Hold to talk");
      button.append(label);
      const anchor = document.querySelector(".gc-overlay-toggle");
      if (anchor) anchor.after(button); else document.body.append(button);
      // Browsers give a page the microphone only over HTTPS (or on localhost).
      if (!navigator.mediaDevices || !window.isSecureContext) {
        button.disabled = true;
        button.title = "Talk-back needs the page over HTTPS (--tls-cert), or on localhost: browsers give the microphone to secure pages only";
        return;
      }
      let session = null;
      let wanted = false;
      const show = (text, on) => {
        label.textContent = text;
        button.classList.toggle("gc-talk--on", on);
        button.setAttribute("aria-pressed", String(on));
      };
      const end = () => {
        const s = session;
        session = null;
        if (!s) return;
        if (s.location) fetch(s.location, { method: "DELETE", keepalive: true }).catch(() => {});
        s.pc.close();
        for (const t of s.mic.getTracks()) t.stop();
      };
      const stop = () => {
        if (!wanted) return;
        wanted = false;
        end();
        if (label.textContent === "Talking…" || label.textContent === "Connecting…") show("Hold to talk", false);
      };
      const start = async () => {
        if (wanted) return;
        wanted = true;
        show("Connecting…", true);
        try {
          const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
          const pc = new RTCPeerConnection({ iceServers: this.config.webrtc ? this.config.webrtc.iceServers : [] });
          session = { pc, mic, location: "" };
          pc.addTransceiver(mic.getAudioTracks()[0], { direction: "sendonly" });
          await pc.setLocalDescription(await pc.createOffer());
          await gathered(pc);
          if (!wanted) return end();
          const res = await fetch(settings.offer, { method: "POST", headers: { "content-type": "application/sdp" }, body: pc.localDescription.sdp });
          if (res.status === 409) { end(); wanted = false; return show("Someone else is talking", false); }
          if (!res.ok) throw new Error(`the server answered ${res.status}`);
          const location = res.headers.get("location") || "";
          // Let go while the offer was on its way: end the session the server just made, or it would
          // hold talk-back (everyone else's 409) until it fell silent.
          if (session === null || session.pc !== pc) {
            if (location) fetch(location, { method: "DELETE", keepalive: true }).catch(() => {});
            return;
          }
          session.location = location;
          await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
          if (!wanted) return end();
          show("Talking…", true);
        } catch (err) {
          end();
          wanted = false;
          show("Cannot talk", false);
          button.title = `Talk-back failed: ${String(err && err.message || err)}`;
        }
      };
      button.addEventListener("pointerdown", (e) => { e.preventDefault(); void start(); });
      for (const type of ["pointerup", "pointerleave", "pointercancel"]) button.addEventListener(type, stop);
      button.addEventListener("keydown", (e) => { if ((e.key === " " || e.key === "Enter") && !e.repeat) { e.preventDefault(); void start(); } });
      button.addEventListener("keyup", (e) => { if (e.key === " " || e.key === "Enter") stop(); });
      window.addEventListener("pagehide", stop);
    }

    // -- info overlay

    bindOverlayToggle() {
      for (const button of document.querySelectorAll(".gc-overlay-toggle")) {
        button.addEventListener("click", () => this.toggleOverlay());
      }
    }

    toggleOverlay() {
      this.overlayOn = !this.overlayOn;
      storageSet(OVERLAY_STORAGE_KEY, this.overlayOn ? "on" : "off");
      this.applyOverlay();
    }

    applyOverlay() {
      for (const tile of this.tiles) {
        tile.overlay.hidden = !this.overlayOn;
        tile.level.hidden = !this.overlayOn || !tile.soundMedia;
        tile.renderSource();
      }
      for (const button of document.querySelectorAll(".gc-overlay-toggle")) {
        button.setAttribute("aria-pressed", String(this.overlayOn));
      }
    }

    // -- full screen

    bindTile(tile) {
      const el = tile.el;
      el.addEventListener("click", (e) => {
        if (e.target instanceof Element && e.target.closest("a, button")) return;
        this.toggleFullscreen(tile);
      });
      el.addEventListener("dblclick", (e) => e.preventDefault());
      el.addEventListener("pointerenter", () => { this.hovered = tile; });
      el.addEventListener("pointerleave", () => { if (this.hovered === tile) this.hovered = null; });
      el.addEventListener("pointermove", () => this.wakeCursor(tile));
      el.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && e.target === el) {
          e.preventDefault();
          this.toggleFullscreen(tile);
        }
      });
    }

    fullscreenElement() {
      return document.fullscreenElement || document.webkitFullscreenElement || null;
    }

    toggleFullscreen(tile) {
      const now = Date.now();
      if (now - this.lastToggle < TOGGLE_DEBOUNCE_MS) return;
      this.lastToggle = now;
      if (this.fullscreenElement()) {
        const exit = document.exitFullscreen || document.webkitExitFullscreen;
        if (exit) Promise.resolve(exit.call(document)).catch(() => {});
        return;
      }
      const maxed = this.tiles.find((t) => t.el.classList.contains("gc-tile--max"));
      if (maxed) return this.setMaximized(maxed, false);
      const el = tile.el;
      const request = el.requestFullscreen || el.webkitRequestFullscreen;
      if (!request) return this.setMaximized(tile, true);
      try {
        Promise.resolve(request.call(el)).catch(() => this.setMaximized(tile, true));
      } catch {
        this.setMaximized(tile, true);
      }
    }

    /** Full window without the Fullscreen API (iPhone Safari). */
    setMaximized(tile, on) {
      tile.el.classList.toggle("gc-tile--max", on);
      document.body.style.overflow = on ? "hidden" : "";
    }

    onFullscreenChange() {
      const fs = this.fullscreenElement();
      for (const tile of this.tiles) {
        if (tile.el !== fs) tile.el.classList.remove("gc-idle");
      }
      const tile = this.tiles.find((t) => t.el === fs);
      if (tile) this.wakeCursor(tile);
    }

    /** In full screen the cursor hides after a moment without moving. */
    wakeCursor(tile) {
      if (this.fullscreenElement() !== tile.el && !tile.el.classList.contains("gc-tile--max")) return;
      tile.el.classList.remove("gc-idle");
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => {
        if (this.fullscreenElement() === tile.el || tile.el.classList.contains("gc-tile--max")) tile.el.classList.add("gc-idle");
      }, CURSOR_IDLE_MS);
    }

    // -- keyboard

    bindKeys() {
      document.addEventListener("keydown", (e) => {
        if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
        const t = e.target;
        if (t instanceof Element && t.closest("input, textarea, select, [contenteditable]")) return;
        const key = e.key.toLowerCase();
        if (key === "f") {
          e.preventDefault();
          const target = this.targetTile();
          if (target) this.toggleFullscreen(target);
        } else if (key === "i") {
          e.preventDefault();
          this.toggleOverlay();
        } else if (e.key === "Escape") {
          const maxed = this.tiles.find((x) => x.el.classList.contains("gc-tile--max"));
          if (maxed) this.setMaximized(maxed, false);
        }
      });
    }

    /** The tile that F acts on: the full-screen one, else hovered, focused, or the first. */
    targetTile() {
      const fs = this.fullscreenElement();
      const inFs = fs && this.tiles.find((x) => x.el === fs);
      if (inFs) return inFs;
      if (this.hovered) return this.hovered;
      const active = document.activeElement;
      const focused = active instanceof Element ? this.tiles.find((x) => x.el === active.closest(".gc-tile")) : null;
      return focused || this.tiles[0] || null;
    }
  }

  // ---- error pages (404 / 500) ---------------------------------------------

  /** A kiosk has nobody to click "Try again": an error page tries itself again. */
  function startErrorPage(box, config) {
    if (!(config.kiosk || document.body.classList.contains("gc-kiosk"))) return;
    document.body.classList.add("gc-kiosk");
    box.append(h("p", "gc-error-retry", null, `Trying again in ${Math.round(KIOSK_ERROR_RELOAD_MS / 1000)} s`));
    setTimeout(() => location.reload(), KIOSK_ERROR_RELOAD_MS);
  }

  function main() {
    const config = readConfig();
    CONFIG = config;
    const root = document.getElementById("player");
    if (root) {
      const player = new Player(root, config);
      player.start();
      window.glasscastPlayer = player; // for debugging in the console
      return;
    }
    const errorBox = document.querySelector(".gc-error");
    if (errorBox) startErrorPage(errorBox, config);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main, { once: true });
  else main();
})();
