#!/usr/bin/env node
console.log("mkimage");
