import type { BuildOptions } from "esbuild";

export declare const TOOLCHAIN: string[];
export declare function cliBuildOptions(root: string): BuildOptions & { entryPoints: Record<string, string> };
