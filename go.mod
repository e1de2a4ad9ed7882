module github.com/ebwrk/ebwrk

go 1.26
