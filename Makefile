# The README's commands. Everything goes through CMake presets; see README.md.
.PHONY: all bootstrap build demo test bench predict-eval board-bench clean

all: build

bootstrap:
	@./scripts/bootstrap

build: bootstrap
	cmake --preset release
	cmake --build --preset release

demo: build
	./build/release/workguard demo --data ./var/demo --listen 127.0.0.1:8080

test: bootstrap
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan

bench: bootstrap
	cmake --preset release -DWG_BUILD_BENCH=ON
	cmake --build --preset release
	./build/release/bench/verify_bench

# Early warning end to end (about 10 minutes on 2 cores): simulated, Tennessee Eastman and
# NAB data, every model; writes var/bench/predict_eval.json and var/bench/predict_eval.md.
predict-eval: bootstrap
	cmake --preset release
	cmake --build --preset release --target workguard
	./scripts/predict_eval

# The risk board in a browser (about 35 minutes): demo start to the first red alarm, first
# load weight, frame rate / CPU / heap over 10 minutes with the demo's points and 2,000;
# writes var/bench/board_bench.json and var/bench/board_bench.md (docs/testing-web.md).
board-bench: bootstrap
	cmake --preset release
	cmake --build --preset release --target workguard
	./scripts/board-bench --minutes 10 --binary ./build/release/workguard

clean:
	rm -rf build
