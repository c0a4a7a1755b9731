/** --publish values: which destination each makes, what is refused (exit 2, naming --publish), and the secrets masked. */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { muxerArgs, pushArgs } from "../src/outputs/publish/ffmpeg-push.ts";
import { publishTarget, PublishTargetError } from "../src/outputs/publish/target.ts";
import { redactText, redactUrl, secretsOf } from "../src/redact.ts";
import { CLI, ROOT } from "./helpers/server.ts";

setDefaultTimeout(60_000); // each command-line case starts bun

describe("redact", () => {
  test("the userinfo, every query value and an RTMP stream key are masked; the rest stays", () => {
    expect(redactUrl("rtsp://bob:hunter22@cam.local:8554/live?x=1")).toBe("rtsp://***@cam.local:8554/live?x=***");
    expect(redactUrl("srt://h:9000?mode=caller&passphrase=longsecret123&latency=200")).toBe("srt://h:9000?mode=***&passphrase=***&latency=***");
    expect(redactUrl("https://h/whip?token=abc123&room=1")).toBe("https://h/whip?token=***&room=***");
    expect(redactUrl("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl")).toBe("rtmp://a.rtmp.youtube.com/live2/***");
    expect(redactUrl("rtmp://127.0.0.1/x")).toBe("rtmp://127.0.0.1/x"); // an app alone is no key
    expect(redactUrl("whip://tok3n@h/p")).toBe("whip://***@h/p");
    expect(redactUrl("rtsp://bob@h/p")).toBe("rtsp://***@h/p");
  });

  test("free text: URLs in it, and the secrets themselves wherever they show (decoded too)", () => {
    const url = "rtmp://bob:p%40ss%20word@10.0.0.1/live/streamkey99";
    const secrets = secretsOf(url);
    expect(secrets).toContain("p@ss word");
    const line = `[tcp @ 0x1] Connection to ${url} failed; user bob password p@ss word key streamkey99`;
    const out = redactText(line, secrets);
    expect(out).not.toContain("p%40ss");
    expect(out).not.toContain("p@ss word");
    expect(out).not.toContain("streamkey99");
    expect(out).toContain("rtmp://***@10.0.0.1/live/***");
  });

  test("the punctuation that closes the text around a URL is not taken for part of it", () => {
    expect(redactText("publish[main → rtmp://127.0.0.1:1935/live/key99]: Connection refused")).toBe(
      "publish[main → rtmp://127.0.0.1:1935/live/***]: Connection refused",
    );
    expect(redactText("(see rtsp://u:pw@h/x).")).toBe("(see rtsp://***@h/x).");
    expect(redactUrl("rtsp://u:pw@[::1]:8554/live")).toBe("rtsp://***@[::1]:8554/live");
  });

  test("a malformed URL is masked too", () => {
    expect(redactUrl("rtsp://bob:hunter22@[bad/x")).toBe("rtsp://***@[bad/x");
  });
});

describe("publish targets", () => {
  test("each scheme picks its protocol and muxer; NAME= may be left out with one stream", () => {
    const rtsp = publishTarget("rtsp://u:pw123@127.0.0.1:8554/cam", ["main"]);
    expect(rtsp).toMatchObject({ stream: "main", protocol: "rtsp", url: "rtsp://u:pw123@127.0.0.1:8554/cam", shown: "rtsp://***@127.0.0.1:8554/cam" });
    expect(muxerArgs(rtsp.url)).toEqual(["-f", "rtsp", "-rtsp_transport", "tcp"]);
    expect(muxerArgs("rtmps://h/app/key")).toEqual(["-f", "flv", "-flvflags", "no_duration_filesize"]);
    expect(muxerArgs("srt://h:1?mode=caller")).toEqual(["-f", "mpegts", "-mpegts_flags", "+resend_headers"]);
    expect(publishTarget("door=srt://h:9000?streamid=x", ["door", "yard"])).toMatchObject({ stream: "door", protocol: "srt" });
    const args = pushArgs("ffmpeg", "rtmp://h/a/k");
    expect(args.slice(args.indexOf("-i") - 2, args.indexOf("-i") + 2)).toEqual(["-f", "h264", "-i", "pipe:0"]);
    expect(args).toContain("-use_wallclock_as_timestamps");
    expect(args.join(" ")).toContain("-c copy");
  });

  test("WHIP: whip:// is https, whip+http:// is http; the token leaves the URL (userinfo, ?token=, else --publish-token)", () => {
    expect(publishTarget("whip://tok3n@example.org/whip/live", ["main"])).toMatchObject({
      protocol: "whip",
      url: "https://example.org/whip/live",
      token: "tok3n",
      shown: "whip://***@example.org/whip/live",
    });
    expect(publishTarget("whip+http://127.0.0.1:8889/cam/whip?token=abc123&x=1", ["main"])).toMatchObject({
      url: "http://127.0.0.1:8889/cam/whip?x=1",
      token: "abc123",
      shown: "whip+http://127.0.0.1:8889/cam/whip?token=***&x=***",
    });
    expect(publishTarget("https://h/w", ["main"], "fromoption")).toMatchObject({ url: "https://h/w", token: "fromoption" });
    expect(publishTarget("http://h/w", ["main"])).toMatchObject({ url: "http://h/w", token: null });
    expect(publishTarget("https://h/w", ["main"], "fromoption").secrets).toContain("fromoption");
  });

  test("refused: an unknown scheme, a malformed URL, a stream that is none, no name among several; the secret never quoted", () => {
    const refusal = (value: string, streams = ["main"]) => {
      try {
        publishTarget(value, streams);
      } catch (err) {
        expect(err).toBeInstanceOf(PublishTargetError);
        return (err as Error).message;
      }
      throw new Error(`${value} was accepted`);
    };
    expect(refusal("ftp://u:hunter22@h/x")).toMatch(/^--publish: "ftp:\/\/\*\*\*@h\/x" has the scheme "ftp"/);
    expect(refusal("rtmp://u:hunter22@[::1/x")).toMatch(/malformed URL/);
    expect(refusal("cam2=rtmp://h/a/b", ["main"])).toMatch(/names the stream "cam2", and there is none/);
    expect(refusal("rtmp://h/a/b", ["a", "b"])).toMatch(/needs a stream name/);
    expect(refusal("not a url")).toMatch(/is not a URL/);
    for (const v of ["ftp://u:hunter22@h/x", "rtmp://u:hunter22@[::1/x"]) expect(refusal(v)).not.toContain("hunter22");
  });
});

describe("the command line", () => {
  const run = (args: string[]) => {
    const r = Bun.spawnSync([process.execPath, "run", CLI, "--port", "0", ...args], { cwd: ROOT, timeout: 30_000 });
    return { code: r.exitCode, stderr: r.stderr.toString() };
  };

  test("bad --publish values exit 2 naming --publish, with no secret in the message", () => {
    for (const value of ["gopher://u:hunter22@h/x", "rtsp://u:hunter22@h:notaport/x", "nosuch=rtmp://u:hunter22@h/live/key", "", "rtmp://"]) {
      const { code, stderr } = run(["--publish", value]);
      expect({ value, code }).toEqual({ value, code: 2 });
      expect(stderr).toContain("--publish");
      expect(stderr).not.toContain("hunter22");
    }
    const several = run(["--source", "a=testsrc", "--source", "b=testsrc", "--publish", "rtmp://h/live/x"]);
    expect(several.code).toBe(2);
    expect(several.stderr).toContain("needs a stream name");
  });

  test("--publish-token without a WHIP destination exits 2", () => {
    const { code, stderr } = run(["--publish", "rtmp://127.0.0.1/live/x", "--publish-token", "sekrit-token-1"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--publish-token: applies to WHIP destinations");
    expect(stderr).not.toContain("sekrit-token-1");
  });
});

describe("the config file", () => {
  const run = (args: string[]) => {
    const r = Bun.spawnSync([process.execPath, "run", CLI, ...args], { cwd: ROOT, timeout: 30_000 });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };

  test("publish and publish-token are read from TOML and checked as the flags are", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glasscast-publish-"));
    const good = join(dir, "good.toml");
    await Bun.write(
      good,
      `source = ["door=testsrc", "yard=testsrc"]\npublish = ["door=rtmp://127.0.0.1/live/door", "yard=whip://example.org/whip"]\npublish-token = "file-token-123"\n`,
    );
    const printed = run(["config", "print", "--config", good]);
    expect(printed.code).toBe(0);
    // An RTMP address's last path segment is a stream key: masked unless --show-secrets.
    expect(printed.stdout).toContain(`publish = ["door=rtmp://127.0.0.1/live/***", "yard=whip://example.org/whip"]`);
    expect(run(["config", "print", "--show-secrets", "--config", good]).stdout).toContain(
      `publish = ["door=rtmp://127.0.0.1/live/door", "yard=whip://example.org/whip"]`,
    );
    expect(printed.stdout).toContain(`publish-token = "***"`);
    const bad = join(dir, "bad.toml");
    await Bun.write(bad, `source = ["door=testsrc"]\nport = 0\npublish = ["gate=rtmp://u:hunter22@127.0.0.1/live/x"]\n`);
    const refused = run(["--config", bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`names the stream "gate"`);
    expect(refused.stderr).not.toContain("hunter22");
  });
});
