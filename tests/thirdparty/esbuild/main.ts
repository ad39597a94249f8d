// Input for the esbuild test: a TypeScript entry point importing a helper module.
import { clamp, Queue } from "./util";

interface Reading {
    sensor: string;
    value: number;
}

const readings: Reading[] = [
    { sensor: "a", value: 12 },
    { sensor: "b", value: -4 },
    { sensor: "c", value: 250 },
];

export function normalise(limit: number): string[] {
    const q = new Queue<Reading>();
    for (const r of readings) q.push({ ...r, value: clamp(r.value, 0, limit) });
    const out: string[] = [];
    while (q.size > 0) {
        const r = q.pop()!;
        out.push(`${r.sensor}=${r.value}`);
    }
    return out;
}

console.log(normalise(100).join(","));
