import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO } from "./workspace-packages.js";

/** One command a document tells the reader to type. */
export interface DocCommand {
  /** Repository-relative file and 1-based line of the command's first line. */
  readonly where: string;
  /** The command as typed: continuation lines joined, the trailing comment removed. */
  readonly command: string;
  /** The trailing `# comment`, without the `#` ("" when none). */
  readonly comment: string;
  /** In a transcript (`$ ` lines), the lines shown after the command, up to the next command. */
  readonly output?: readonly string[];
}

/** The documents whose commands must work as printed: README.md, docs/*.md and every package README. */
export function documentedFiles(): string[] {
  const docs = readdirSync(join(REPO, "docs")).filter((name) => name.endsWith(".md")).map((name) => join("docs", name));
  const packages = readdirSync(join(REPO, "packages")).map((name) => join("packages", name, "README.md"));
  return ["README.md", ...docs.sort(), ...packages.sort()];
}

const FENCE = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```/gm;
const SHELL_LANGUAGES = new Set(["sh", "bash", "shell", "console"]);

/**
 * The commands of one Markdown file: every line of a fenced sh/bash/shell/console block, and
 * every `$ ` line of any other fenced block (transcripts of a session). Lines ending in `\`
 * continue on the next line; comment-only lines and `# comments` after a command are dropped.
 */
export function commandsInMarkdown(file: string, text = readFileSync(join(REPO, file), "utf8")): DocCommand[] {
  const out: DocCommand[] = [];
  for (const match of text.matchAll(FENCE)) {
    const language = match[1] ?? "";
    const body = match[2] ?? "";
    const firstLine = text.slice(0, match.index).split("\n").length + 1;
    const shell = SHELL_LANGUAGES.has(language);
    const lines = body.split("\n");
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      const start = i;
      if (!shell) {
        if (!line.startsWith("$ ")) continue;
        line = line.slice(2);
      }
      while (line.endsWith("\\") && i + 1 < lines.length) line = `${line.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
      const { command, comment } = splitComment(line);
      if (command === "") continue;
      const where = `${relative(REPO, join(REPO, file))}:${firstLine + start}`;
      if (shell) {
        out.push({ where, command, comment });
        continue;
      }
      const output: string[] = [];
      while (i + 1 < lines.length && !lines[i + 1]!.startsWith("$ ") && !(i + 2 === lines.length && lines[i + 1] === "")) output.push(lines[++i]!);
      out.push({ where, command, comment, output });
    }
  }
  return out;
}

/** Splits `cmd  # note` at the first `#` that starts a word outside quotes. */
function splitComment(line: string): { command: string; comment: string } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === "#" && (i === 0 || /\s/.test(line[i - 1]!))) {
      return { command: line.slice(0, i).trim(), comment: line.slice(i + 1).trim() };
    }
  }
  return { command: line.trim(), comment: "" };
}

/** Every command of every documented file, in document order. */
export function documentedCommands(): DocCommand[] {
  return documentedFiles().flatMap((file) => commandsInMarkdown(file));
}

/** A command line split the way sh would for the simple forms documents use. */
export interface SimpleCommand {
  /** Leading NAME=value assignments. */
  readonly env: Record<string, string>;
  readonly argv: string[];
}

/**
 * Splits `NAME="v" cmd 'a b' c` into assignments and words: whitespace separates words, single
 * and double quotes group (no escapes inside). Anything a shell would expand or connect ($, `,
 * \, |, &, ;, <, >, parentheses) is refused: such a line needs a real shell.
 */
export function parseSimpleCommand(line: string): SimpleCommand {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const char of line) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word = (word ?? "") + char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (/[$`\\|&;<>()]/.test(char)) {
      throw new Error(`not a simple command (${char}): ${line}`);
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote !== undefined) throw new Error(`unbalanced quote: ${line}`);
  if (word !== undefined) words.push(word);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) {
    const assignment = words.shift()!;
    env[assignment.slice(0, assignment.indexOf("="))] = assignment.slice(assignment.indexOf("=") + 1);
  }
  return { env, argv: words };
}
