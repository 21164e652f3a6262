package source

import (
	"context"
	"errors"
	"io"
)

// prefetchBatch is how many records the decoding goroutine hands over at a
// time.
const prefetchBatch = 256

// Prefetch reads r on its own goroutine, a few batches ahead, so decoding
// (gunzip, CSV parsing) overlaps with what the caller does with each
// record. Records it returns stay valid until the next call, like any
// Reader's. Closing the returned Reader stops the goroutine and closes r.
func Prefetch(ctx context.Context, r Reader) Reader {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{r: r, cancel: cancel, out: make(chan *recBatch, 2), free: make(chan *recBatch, 3), done: make(chan struct{})}
	for range cap(p.free) {
		p.free <- &recBatch{}
	}
	go p.run(ctx)
	return p
}

type recBatch struct {
	recs   []Record
	fields []string // backing store of the records' Fields
	err    error    // after the records: a RowError, io.EOF or a fatal error
}

type prefetcher struct {
	r      Reader
	cancel context.CancelFunc
	out    chan *recBatch
	free   chan *recBatch
	done   chan struct{}
	cur    *recBatch
	i      int
	eof    error // sticky end: io.EOF or a fatal error
}

func (p *prefetcher) run(ctx context.Context) {
	defer close(p.done)
	defer close(p.out)
	for {
		var b *recBatch
		select {
		case b = <-p.free:
		case <-ctx.Done():
			return
		}
		b.recs, b.fields, b.err = b.recs[:0], b.fields[:0], nil
		for len(b.recs) < prefetchBatch {
			rec, err := p.r.Next(ctx)
			if err != nil {
				b.err = err
				break
			}
			start := len(b.fields)
			b.fields = append(b.fields, rec.Fields...)
			rec.Fields = b.fields[start:len(b.fields):len(b.fields)]
			b.recs = append(b.recs, rec)
		}
		// The Fields of earlier records point into an older backing array
		// when append grew it; that array stays alive and unchanged.
		end := b.err // b belongs to the consumer once sent
		select {
		case p.out <- b:
		case <-ctx.Done():
			return
		}
		var re *RowError
		if end != nil && !errors.As(end, &re) {
			return
		}
	}
}

// Next implements Reader.
func (p *prefetcher) Next(ctx context.Context) (Record, error) {
	for {
		if p.cur != nil && p.i < len(p.cur.recs) {
			p.i++
			return p.cur.recs[p.i-1], nil
		}
		if p.cur != nil && p.cur.err != nil {
			err := p.cur.err
			p.cur.err = nil
			var re *RowError
			if !errors.As(err, &re) {
				p.eof = err
			}
			return Record{}, err
		}
		if p.eof != nil {
			return Record{}, p.eof
		}
		if p.cur != nil {
			p.free <- p.cur
			p.cur = nil
		}
		select {
		case b, ok := <-p.out:
			if !ok {
				p.eof = io.EOF
				return Record{}, io.EOF
			}
			p.cur, p.i = b, 0
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
}

// Close implements Reader.
func (p *prefetcher) Close() error {
	p.cancel()
	<-p.done
	return p.r.Close()
}
