'use strict';
// Linux /proc readings: CPU time of a process tree, its peak RSS, and the whole machine's CPU time
// (to tell how busy the rest of the machine was during a cell).
const fs = require('node:fs');

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] = state (field 3); ppid = field 4 -> f[1]; utime = 14 -> f[11]; stime = 15 -> f[12]
    return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]) };
  } catch {
    return null;
  }
}

// Every live descendant of pid (children, grandchildren...), pid included.
function processTree(pid) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(name));
  }
  const out = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    out.push(p);
    for (const c of children.get(p) || []) todo.push(c);
  }
  return out;
}

// CPU microseconds (user + system, all threads) of each process in the tree: a Map pid -> us.
// Per pid, so that a delta counts only processes alive at both ends (a process that exits mid-cell loses
// its share; the servers here keep their processes for the whole cell).
function treeCpu(pid) {
  const m = new Map();
  for (const p of processTree(pid)) {
    const st = readStat(p);
    if (st) m.set(p, (st.utime + st.stime) * TICK_US);
  }
  return m;
}

function cpuDelta(before, after) {
  let us = 0;
  for (const [p, t] of after) us += t - (before.get(p) ?? 0);
  return us;
}

function statusField(pid, field) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// Peak resident set (VmHWM) summed over the tree, in KiB; and the current thread count.
function treeMemory(pid) {
  let hwm = 0;
  let threads = 0;
  for (const p of processTree(pid)) {
    hwm += statusField(p, 'VmHWM');
    threads += statusField(p, 'Threads');
  }
  return { hwmKiB: hwm, threads };
}

// Whole-machine CPU: busy and total jiffies over all cores (from the first line of /proc/stat).
function machineCpu() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] || 0); // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
  return { busyUs: (total - idle) * TICK_US, totalUs: total * TICK_US };
}

module.exports = { processTree, treeCpu, cpuDelta, treeMemory, machineCpu };
