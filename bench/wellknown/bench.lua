-- Deterministic CPU benchmark for Lua 5.4 (no clock, no random seed from time).
local SCALE = tonumber(arg and arg[1]) or 1

-- 1. recursive fib
local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end
print(string.format("fib(%d) = %d", 24 + SCALE, fib(24 + SCALE)))

-- 2. table inserts + sort with a simple LCG (fixed seed)
local seed = 12345
local function lcg() seed = (seed * 1103515245 + 12345) % 2147483648; return seed end
local t = {}
for i = 1, 60000 * SCALE do t[#t+1] = lcg() % 1000000 end
table.sort(t)
local sum = 0
for i = 1, #t, 97 do sum = sum + t[i] end
print(string.format("sort: n=%d min=%d max=%d median=%d sample_sum=%d", #t, t[1], t[#t], t[#t//2], sum))
-- sort with comparator on strings
local s = {}
for i = 1, 20000 * SCALE do s[i] = string.format("k%07d", (i * 7919) % 100003) end
table.sort(s, function(a, b) return a > b end)
print("strsort:", s[1], s[#s], s[1000])

-- 3. string building and gsub
local parts = {}
for i = 1, 20000 * SCALE do parts[#parts+1] = "item" .. i .. "=" .. (i * i % 9973) end
local big = table.concat(parts, ";")
local replaced, n = big:gsub("item(%d+)=(%d+)", function(a, b) return b .. ":" .. a end)
local digits = 0
for d in replaced:gmatch("%d") do digits = digits + 1 end
local h = 0
for i = 1, #replaced, 7 do h = (h * 31 + replaced:byte(i)) % 4294967296 end
print(string.format("strings: len=%d subs=%d digits=%d hash=%d upper=%s",
  #big, n, digits, h, big:sub(1, 20):upper()))

-- 4. n-body (floats)
local PI = math.pi
local SOLAR_MASS = 4 * PI * PI
local DAYS = 365.24
local bodies = {
  {x=0,y=0,z=0,vx=0,vy=0,vz=0,mass=SOLAR_MASS},
  {x=4.84143144246472090e+00,y=-1.16032004402742839e+00,z=-1.03622044471123109e-01,
   vx=1.66007664274403694e-03*DAYS,vy=7.69901118419740425e-03*DAYS,vz=-6.90460016972063023e-05*DAYS,
   mass=9.54791938424326609e-04*SOLAR_MASS},
  {x=8.34336671824457987e+00,y=4.12479856412430479e+00,z=-4.03523417114321381e-01,
   vx=-2.76742510726862411e-03*DAYS,vy=4.99852801234917238e-03*DAYS,vz=2.30417297573763929e-05*DAYS,
   mass=2.85885980666130812e-04*SOLAR_MASS},
  {x=1.28943695621391310e+01,y=-1.51111514016986312e+01,z=-2.23307578892655734e-01,
   vx=2.96460137564761618e-03*DAYS,vy=2.37847173959480950e-03*DAYS,vz=-2.96589568540237556e-05*DAYS,
   mass=4.36624404335156298e-05*SOLAR_MASS},
  {x=1.53796971148509165e+01,y=-2.59193146099879641e+01,z=1.79258772950371181e-01,
   vx=2.68067772490389322e-03*DAYS,vy=1.62824170038242295e-03*DAYS,vz=-9.51592254519715870e-05*DAYS,
   mass=5.15138902046611451e-05*SOLAR_MASS},
}
local function advance(nb, dt)
  for i = 1, nb do
    local bi = bodies[i]
    local bix, biy, biz, bimass = bi.x, bi.y, bi.z, bi.mass
    local bivx, bivy, bivz = bi.vx, bi.vy, bi.vz
    for j = i+1, nb do
      local bj = bodies[j]
      local dx, dy, dz = bix-bj.x, biy-bj.y, biz-bj.z
      local d2 = dx*dx + dy*dy + dz*dz
      local mag = math.sqrt(d2); mag = dt / (mag * d2)
      local bm = bj.mass*mag
      bivx = bivx - (dx * bm); bivy = bivy - (dy * bm); bivz = bivz - (dz * bm)
      bm = bimass*mag
      bj.vx = bj.vx + (dx * bm); bj.vy = bj.vy + (dy * bm); bj.vz = bj.vz + (dz * bm)
    end
    bi.vx, bi.vy, bi.vz = bivx, bivy, bivz
    bi.x = bix + dt * bivx; bi.y = biy + dt * bivy; bi.z = biz + dt * bivz
  end
end
local function energy(nb)
  local e = 0
  for i = 1, nb do
    local bi = bodies[i]
    local vx, vy, vz, bim = bi.vx, bi.vy, bi.vz, bi.mass
    e = e + (0.5 * bim * (vx*vx + vy*vy + vz*vz))
    for j = i+1, nb do
      local bj = bodies[j]
      local dx, dy, dz = bi.x-bj.x, bi.y-bj.y, bi.z-bj.z
      e = e - ((bim * bj.mass) / math.sqrt(dx*dx + dy*dy + dz*dz))
    end
  end
  return e
end
local function offset(nb)
  local px, py, pz = 0, 0, 0
  for i = 1, nb do
    local b = bodies[i]; local bm = b.mass
    px = px + (b.vx * bm); py = py + (b.vy * bm); pz = pz + (b.vz * bm)
  end
  bodies[1].vx = -px / SOLAR_MASS; bodies[1].vy = -py / SOLAR_MASS; bodies[1].vz = -pz / SOLAR_MASS
end
offset(#bodies)
print(string.format("nbody: e0=%.9f", energy(#bodies)))
for _ = 1, 25000 * SCALE do advance(#bodies, 0.01) end
print(string.format("nbody: e1=%.9f", energy(#bodies)))

-- 5. closures / coroutines
local co = coroutine.wrap(function()
  for i = 1, 50000 * SCALE do coroutine.yield(i % 13) end
  return -1
end)
local acc = 0
while true do local v = co(); if v < 0 then break end acc = acc + v end
print("coroutine acc:", acc)
