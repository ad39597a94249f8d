export function clamp(x: number, lo: number, hi: number): number {
    return Math.min(hi, Math.max(lo, x));
}

export function unusedHelper(): number {
    return 42;
}

export class Queue<T> {
    private items: T[] = [];
    push(item: T): void {
        this.items.push(item);
    }
    pop(): T | undefined {
        return this.items.shift();
    }
    get size(): number {
        return this.items.length;
    }
}
