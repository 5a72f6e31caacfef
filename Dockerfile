# metallb-ts image: one image for both components (`controller` and `speaker` are subcommands; the
# manifests pass them as args). Built and checked (user, libpcap) with podman by scripts/build-image.sh, which
# also shows how to build it without registry access (docs/packaging.md).
# Build and push:  docker build -t registry.example.org/you/metallb-ts:0.1.0 . && docker push …
# then set the image in manifests/kustomization.yaml (`images:`), see the README, "Container image".

# ---- build: compile TypeScript and cap's libpcap binding, then drop dev dependencies
FROM node:20-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential python3 libpcap-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund \
 && test -f node_modules/cap/build/Release/cap.node
COPY tsconfig.json ./
COPY src ./src
# tsconfig also includes test/ and bench/; they are not copied, so only src/ is compiled.
RUN npx tsc -p tsconfig.json
RUN npm prune --omit=dev

# ---- runtime: Node 20 and the libpcap shared library only
FROM node:20-bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpcap0.8 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
ENV NODE_ENV=production
# Non-root by default (the controller). The speaker's manifest sets runAsUser 0 with only NET_RAW, because
# Kubernetes gives a non-root process no ambient capabilities.
USER 65534:65534
EXPOSE 7472 7946/tcp 7946/udp
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
