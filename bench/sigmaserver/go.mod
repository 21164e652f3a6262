module github.com/auditexport/auditexport/bench/sigmaserver

go 1.26.8

require github.com/auditexport/auditexport v0.0.0

replace github.com/auditexport/auditexport => ../..
