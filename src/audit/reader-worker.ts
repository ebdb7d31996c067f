/**
 * A reader thread's entry (started by read-parallel.ts): it answers each job
 * — segments of a file shared with it, or small files to open itself — in
 * order, and says when it could not (the main thread then reads that file).
 */
import { parentPort } from "node:worker_threads";
import { type JobAnswer, type JobMessage, readFiles, readSegments } from "./read-segments.js";

// The yaml parser reads process.env.LOG_TOKENS for every token; process.env is
// an interceptor calling into the runtime each time (about 0.3 µs, a sixth of
// the parse). This thread only parses: a plain copy answers the same.
process.env = { ...process.env };
parentPort!.on("message", (message: JobMessage) => {
  const { id } = message;
  let answer: JobAnswer;
  let transfer: ArrayBuffer[] = [];
  try {
    if ("files" in message) {
      const done = readFiles(message.files);
      answer = { id, files: done.answers };
      transfer = done.transfer;
    } else answer = { id, result: readSegments(message.job, Buffer.from(message.buffer)) };
  } catch (e) {
    answer = { id, failed: e instanceof Error ? e.message : String(e) };
  }
  try {
    parentPort!.postMessage(answer, transfer);
  } catch (e) {
    // A value the structured clone refuses: the main thread reads the file itself.
    parentPort!.postMessage({ id, failed: e instanceof Error ? e.message : String(e) });
  }
});
