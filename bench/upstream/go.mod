module github.com/detour/bench/upstream

go 1.22
